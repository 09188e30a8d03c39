"""The benchmark catalog, written with PostgreSQL COPY in a few seconds.

10,000 categories four levels deep (10 departments x 10 aisles x 10 shelves, the rest
as leaves), 25,000 products in the leaves, 4 SKUs each (100,000 SKUs, `SKU-1` ...
`SKU-100000`, ids 1..100000), one stock level per SKU in the default warehouse with a
matching `receipt` movement, so that the ledger agrees with the levels from the start.

Rows are built from the models' own fields (defaults filled in), so a column added by
a migration does not break the generator. History tables are left empty: the rows did
not come through the admin or the services.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify
from psycopg.types.json import Jsonb

HOT_SKU_ID = 1
HOT_SKU_ON_HAND = 1_000_000
OVERSELL_SKU_ID = 2
OVERSELL_SKU_ON_HAND = 100
COLORS = ["red", "green", "blue", "black", "white", "grey", "navy", "olive"]
SIZES = ["XS", "S", "M", "L", "XL", "XXL"]


@dataclass(frozen=True)
class CatalogShape:
    """How big the generated catalog is."""

    categories: int = 10_000
    skus: int = 100_000
    skus_per_product: int = 4
    roots: int = 10
    fanout: int = 10

    @property
    def products(self) -> int:
        return -(-self.skus // self.skus_per_product)


@dataclass
class GeneratedCatalog:
    """What the generator wrote, for the benchmarks to aim at."""

    categories: int
    products: int
    skus: int
    root_category_id: int
    root_product_count: int
    warehouse_id: int
    warehouse_code: str


def _category_nodes(shape: CatalogShape) -> list[dict]:
    """The tree as rows with mptt fields, in tree order (siblings sorted by name).

    The three upper levels are always complete; leaves fill up to `shape.categories`.
    """
    upper = shape.roots + shape.roots * shape.fanout + shape.roots * shape.fanout**2
    leaves = max(0, shape.categories - upper)
    shelves = shape.roots * shape.fanout**2
    per_shelf, extra = divmod(leaves, shelves)
    rows: list[dict] = []
    counter = [0]

    def add(name: str, parent: dict | None, tree_id: int, level: int) -> dict:
        counter[0] += 1
        row = {
            "id": len(rows) + 1,
            "name": name,
            "parent_id": parent["id"] if parent else None,
            "tree_id": tree_id,
            "level": level,
            "lft": counter[0],
            "path": f"{parent['path']}/{name}" if parent else name,
        }
        rows.append(row)
        return row

    def close(row: dict) -> None:
        counter[0] += 1
        row["rght"] = counter[0]

    shelf_index = 0
    for r in range(shape.roots):
        counter[0] = 0
        root = add(f"Department {r:02d}", None, r + 1, 0)
        for a in range(shape.fanout):
            aisle = add(f"Aisle {r:02d}-{a:02d}", root, r + 1, 1)
            for s in range(shape.fanout):
                shelf = add(f"Shelf {r:02d}-{a:02d}-{s:02d}", aisle, r + 1, 2)
                for leaf in range(per_shelf + (1 if shelf_index < extra else 0)):
                    close(add(f"Bin {r:02d}-{a:02d}-{s:02d}-{leaf:02d}", shelf, r + 1, 3))
                shelf_index += 1
                close(shelf)
            close(aisle)
        close(root)
    return rows


def _field_defaults(model: type[models.Model], now) -> dict[str, object]:
    defaults = {}
    for f in model._meta.concrete_fields:
        if f.has_default():
            defaults[f.attname] = f.get_default()
        elif isinstance(f, models.DateTimeField) and not f.null:
            defaults[f.attname] = now
        else:
            defaults[f.attname] = None
    return defaults


def copy_rows(model: type[models.Model], rows: Iterable[dict], *, now=None) -> int:
    """COPY `rows` (dicts keyed by attname) into the model's table; other columns get their defaults."""
    now = now or timezone.now()
    fields = list(model._meta.concrete_fields)
    defaults = _field_defaults(model, now)
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    names = [f.attname for f in fields]
    count = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        ) as copy:
            for row in rows:
                values = []
                for name in names:
                    value = row[name] if name in row else defaults[name]
                    if name in json_fields and value is not None:
                        value = Jsonb(value)
                    values.append(value)
                copy.write_row(values)
                count += 1
    return count


def reset_sequences(*model_list: type[models.Model]) -> None:
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(model_list)):
            cursor.execute(sql)


def generate_catalog(shape: CatalogShape = CatalogShape(), *, seed: int = 42) -> GeneratedCatalog:
    """Write the catalog and its stock into the (empty, migrated) database."""
    from catalog.models import SKU, Category, Product
    from stock.models import MovementReason, StockLevel, StockMovement, Warehouse

    rng = random.Random(seed)
    now = timezone.now()
    warehouse = Warehouse.objects.get(is_default=True)
    categories = _category_nodes(shape)
    leaves = [c["id"] for c in categories if c["level"] == 3] or [c["id"] for c in categories]
    root_id = categories[0]["id"]

    def category_rows() -> Iterator[dict]:
        for c in categories:
            yield {**c, "slug": slugify(c["name"]), "attributes": {}}

    def product_category(product_id: int) -> int:
        return leaves[(product_id - 1) % len(leaves)]

    def product_rows() -> Iterator[dict]:
        for p in range(1, shape.products + 1):
            name = f"Product {p:06d}"
            yield {
                "id": p,
                "name": name,
                "slug": slugify(name),
                "category_id": product_category(p),
                "description": f"Generated product {p}.",
                "attributes": {"brand": f"Brand {p % 50:02d}"},
            }

    def sku_rows() -> Iterator[dict]:
        for s in range(1, shape.skus + 1):
            yield {
                "id": s,
                "sku_code": f"SKU-{s}",
                "product_id": (s - 1) // shape.skus_per_product + 1,
                "price": f"{rng.randint(100, 99999) / 100:.2f}",
                "attributes": {"color": COLORS[s % len(COLORS)], "size": SIZES[s % len(SIZES)]},
            }

    on_hand = {s: rng.randint(50, 500) for s in range(1, shape.skus + 1)}
    on_hand[HOT_SKU_ID] = HOT_SKU_ON_HAND
    if shape.skus >= OVERSELL_SKU_ID:
        on_hand[OVERSELL_SKU_ID] = OVERSELL_SKU_ON_HAND

    def level_rows() -> Iterator[dict]:
        for s, qty in on_hand.items():
            yield {
                "id": s,
                "sku_id": s,
                "warehouse_id": warehouse.id,
                "on_hand": qty,
                "reserved": 0,
                "low_stock_threshold": 10,
            }

    def movement_rows() -> Iterator[dict]:
        for s, qty in on_hand.items():
            yield {
                "id": s,
                "sku_id": s,
                "warehouse_id": warehouse.id,
                "delta": qty,
                "balance_after": qty,
                "reason": MovementReason.RECEIPT,
                "reference": "BENCH-SEED",
                "note": "",
                "created_at": now,
            }

    with transaction.atomic():
        copy_rows(Category, category_rows(), now=now)
        copy_rows(Product, product_rows(), now=now)
        copy_rows(SKU, sku_rows(), now=now)
        copy_rows(StockLevel, level_rows(), now=now)
        copy_rows(StockMovement, movement_rows(), now=now)
        reset_sequences(Category, Product, SKU, StockLevel, StockMovement)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    root_tree = categories[0]["tree_id"]
    root_leaf_ids = {c["id"] for c in categories if c["tree_id"] == root_tree}
    root_products = sum(1 for p in range(1, shape.products + 1) if product_category(p) in root_leaf_ids)
    return GeneratedCatalog(
        categories=len(categories),
        products=shape.products,
        skus=shape.skus,
        root_category_id=root_id,
        root_product_count=root_products,
        warehouse_id=warehouse.id,
        warehouse_code=warehouse.code,
    )
