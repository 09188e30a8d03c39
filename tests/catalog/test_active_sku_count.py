"""The number of active SKUs that the database keeps (catalog migration 0005) is the number
the SKU list answers as `meta.total`, whatever writes the SKUs: services, bulk COPY, product
deletes, rollbacks, concurrent writers; `check_integrity` finds and mends a drift."""

import io
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from catalog import services
from catalog.models import SKU
from catalog.selectors import ACTIVE_SKU_COUNT_SQL, sku_count_drifts
from tests.catalog.factories import ProductFactory, SKUFactory
from tests.conftest import token_client
from tests.factories import UserFactory


def kept() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {ACTIVE_SKU_COUNT_SQL}")
        return cursor.fetchone()[0]


def listed_total() -> int:
    response = token_client(UserFactory(is_staff=True, is_superuser=True)).get("/api/v1/skus/?page=1&size=5")
    assert response.status_code == 200
    return response.json()["meta"]["total"]


@pytest.mark.django_db
def test_every_kind_of_sku_write_keeps_the_count_exact():
    product = ProductFactory()
    first = services.sku_create(sku_code="COUNT-1", product_id=product.pk, price=Decimal("1.00"))
    SKUFactory.create_batch(4, product=product)
    assert kept() == listed_total() == 5

    services.sku_update(sku_id=first.pk, price=Decimal("2.00"))  # an update that deletes nothing
    assert kept() == 5
    services.sku_soft_delete(sku_id=first.pk)
    assert kept() == listed_total() == 4
    services.sku_restore(sku_id=first.pk)
    assert kept() == 5
    services.sku_soft_delete(sku_id=first.pk)
    services.sku_hard_delete(sku_id=first.pk)  # a deleted SKU purged: the count does not move
    assert kept() == 4
    SKU.all_objects.filter(product=product).update(is_deleted=True)  # one statement, many rows
    assert kept() == listed_total() == 0
    assert sku_count_drifts() == []


@pytest.mark.django_db
def test_a_rolled_back_write_leaves_the_count():
    product = ProductFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        SKUFactory.create_batch(3, product=product)
        assert kept() == 3  # the writer sees its own SKUs counted
        raise RuntimeError("roll back")
    assert kept() == 0 == SKU.objects.count()


@pytest.mark.django_db
def test_a_bulk_copy_import_is_counted(tmp_path):
    csv = tmp_path / "catalog.csv"
    csv.write_text(
        "category_path,product_name,sku_code,price\n" + "".join(f"Count,Widget,CNT-{n},1.50\n" for n in range(7))
    )
    call_command("import_catalog", str(csv), stdout=io.StringIO())
    assert SKU.objects.count() == 7
    assert kept() == listed_total() == 7


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_the_count_exact():
    product = ProductFactory()
    doomed = SKUFactory.create_batch(20, product=product)
    barrier = threading.Barrier(4)
    errors = []

    def create(start):
        try:
            barrier.wait()
            for n in range(start, start + 25):
                services.sku_create(sku_code=f"RACE-{n}", product_id=product.pk, price=Decimal("1.00"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def delete(skus):
        try:
            barrier.wait()
            for sku in skus:
                services.sku_soft_delete(sku_id=sku.pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=create, args=(0,)),
        threading.Thread(target=create, args=(100,)),
        threading.Thread(target=delete, args=(doomed[:10],)),
        threading.Thread(target=delete, args=(doomed[10:],)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert SKU.objects.count() == 50
    assert kept() == listed_total() == 50
    assert sku_count_drifts() == []


@pytest.mark.django_db
def test_check_integrity_reports_a_drift_and_fix_recounts():
    SKUFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE catalog_sku_active_count SET skus = skus + 2 WHERE slot = 5")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("check_integrity", stdout=out, stderr=err)
    assert exit_.value.code == 1
    assert "DRIFT active SKU count: 5 kept, 3 counted" in out.getvalue()

    out = io.StringIO()
    call_command("check_integrity", "--fix", stdout=out, stderr=io.StringIO())
    assert "Recounted the active SKUs (active SKU count: 5 kept, 3 counted before)." in out.getvalue()
    assert out.getvalue().rstrip().endswith("agree.")
    assert kept() == listed_total() == 3
