"""The number of active SKUs, kept by the database itself (PostgreSQL), and a partial index
on the active SKUs' ids.

The storefront's SKU list answers `meta.total` on every page. Counting 100,000 rows costs
more than the page itself, so the count is kept in `catalog_sku_active_count`: statement
triggers with transition tables add what each INSERT, UPDATE, DELETE or COPY of
`catalog_sku` changed, in the same transaction, so a reader's snapshot sees the count of
exactly the SKUs it sees (it is not a cache: it cannot go stale or run ahead). The count
is spread over 16 slots (by backend) so concurrent SKU writes do not queue on one row; the
total is their sum. TRUNCATE (the test runner's flush) sets every slot to 0.

`sku_active_id` lets a page of the list skip its OFFSET on the index alone.
"""

from django.db import migrations

SLOTS = 16

FORWARD = f"""
CREATE TABLE catalog_sku_active_count (slot smallint PRIMARY KEY, skus bigint NOT NULL);
INSERT INTO catalog_sku_active_count (slot, skus) SELECT s, 0 FROM generate_series(0, {SLOTS - 1}) s;
UPDATE catalog_sku_active_count SET skus = (SELECT count(*) FROM catalog_sku WHERE NOT is_deleted) WHERE slot = 0;

CREATE FUNCTION catalog_sku_count_add(delta bigint) RETURNS void LANGUAGE sql AS $$
  UPDATE catalog_sku_active_count SET skus = skus + delta WHERE slot = mod(pg_backend_pid(), {SLOTS}) AND delta <> 0
$$;
CREATE FUNCTION catalog_sku_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM catalog_sku_count_add((SELECT count(*) FROM new_rows WHERE NOT is_deleted));
  RETURN NULL;
END $$;
CREATE FUNCTION catalog_sku_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM catalog_sku_count_add((SELECT count(*) FROM new_rows WHERE NOT is_deleted)
                                - (SELECT count(*) FROM old_rows WHERE NOT is_deleted));
  RETURN NULL;
END $$;
CREATE FUNCTION catalog_sku_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM catalog_sku_count_add(-(SELECT count(*) FROM old_rows WHERE NOT is_deleted));
  RETURN NULL;
END $$;
CREATE FUNCTION catalog_sku_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE catalog_sku_active_count SET skus = 0;
  RETURN NULL;
END $$;
CREATE TRIGGER sku_count_inserted AFTER INSERT ON catalog_sku REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_sku_count_inserted();
CREATE TRIGGER sku_count_updated AFTER UPDATE ON catalog_sku REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_sku_count_updated();
CREATE TRIGGER sku_count_deleted AFTER DELETE ON catalog_sku REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_sku_count_deleted();
CREATE TRIGGER sku_count_truncated AFTER TRUNCATE ON catalog_sku
  FOR EACH STATEMENT EXECUTE FUNCTION catalog_sku_count_truncated();
CREATE INDEX sku_active_id ON catalog_sku (id) WHERE NOT is_deleted;
"""

BACKWARD = """
DROP INDEX IF EXISTS sku_active_id;
DROP TRIGGER IF EXISTS sku_count_inserted ON catalog_sku;
DROP TRIGGER IF EXISTS sku_count_updated ON catalog_sku;
DROP TRIGGER IF EXISTS sku_count_deleted ON catalog_sku;
DROP TRIGGER IF EXISTS sku_count_truncated ON catalog_sku;
DROP FUNCTION IF EXISTS catalog_sku_count_inserted(), catalog_sku_count_updated(), catalog_sku_count_deleted(),
  catalog_sku_count_truncated(), catalog_sku_count_add(bigint);
DROP TABLE IF EXISTS catalog_sku_active_count;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_stock_depth"),
    ]

    operations = [migrations.RunPython(forward, backward)]
