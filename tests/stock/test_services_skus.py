"""What stock adds to the catalog's SKU writes: initial stock on create, the reserved-stock guard."""

from decimal import Decimal

import pytest

from catalog import services as catalog_services
from catalog.models import SKU
from stock.exceptions import HasReservedStock, InvalidInput
from stock.models import StockLevel, StockMovement
from stock.services import ReservationRequestLine, reservation_create, sku_create_with_stock
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_create_with_inventory_count_receives_stock(main):
    product = ProductFactory()
    sku = sku_create_with_stock(sku_code="WITH-STOCK", product_id=product.pk, price=Decimal("1"), inventory_count=5)
    level = StockLevel.objects.get(sku=sku)
    assert level.on_hand == 5 and level.warehouse == main
    movement = StockMovement.objects.get(sku=sku)
    assert movement.reason == "receipt" and movement.reference == "initial stock WITH-STOCK"


def test_create_with_negative_count_writes_nothing(main):
    product = ProductFactory()
    with pytest.raises(InvalidInput):
        sku_create_with_stock(sku_code="NEG", product_id=product.pk, price=Decimal("1"), inventory_count=-1)
    assert not SKU.all_objects.exists() and not StockLevel.objects.exists()


def test_catalog_soft_deletes_meet_the_reserved_stock_rule(stocked):
    """The rule answers the catalog's `skus_hiding` signal, so the catalog's own services keep it."""
    reservation_create(reference="O-1", lines=[ReservationRequestLine(sku=stocked, quantity=1)])
    with pytest.raises(HasReservedStock) as exc:
        catalog_services.sku_soft_delete(sku_id=stocked.pk)
    assert exc.value.errors == {"sku_codes": [stocked.sku_code]}
    with pytest.raises(HasReservedStock):
        catalog_services.product_soft_delete(product_id=stocked.product_id, cascade=True)
    assert not SKU.all_objects.get(pk=stocked.pk).is_deleted
