"""SKU services: codes reserved in any case (deleted ones too), product checks, stock guards."""

from decimal import Decimal

import pytest

from catalog import services
from catalog.exceptions import Duplicate, HasDependents, InvalidInput, ParentDeleted
from catalog.models import SKU
from stock.exceptions import HasReservedStock
from stock.models import StockLevel, StockMovement, Warehouse
from tests.catalog.factories import ProductFactory, SKUFactory

pytestmark = pytest.mark.django_db


def test_create_and_codes_unique_case_insensitively_even_when_deleted():
    product = ProductFactory()
    sku = services.sku_create(sku_code="TSHIRT-RED-M", product_id=product.pk, price=Decimal("19.99"))
    assert sku.version == 1
    with pytest.raises(Duplicate):
        services.sku_create(sku_code="tshirt-red-m", product_id=product.pk, price=Decimal("1"))
    services.sku_soft_delete(sku_id=sku.pk)
    with pytest.raises(Duplicate) as exc:
        services.sku_create(sku_code="TShirt-Red-M", product_id=product.pk, price=Decimal("1"))
    assert "sku_code" in exc.value.errors
    assert SKU.all_objects.count() == 1


def test_create_needs_active_product():
    product = ProductFactory()
    services.product_soft_delete(product_id=product.pk)
    with pytest.raises(InvalidInput):
        services.sku_create(sku_code="A", product_id=product.pk, price=Decimal("1"))


def test_update_code_conflicts_and_version():
    a, b = SKUFactory(sku_code="A-1"), SKUFactory(sku_code="B-1")
    with pytest.raises(Duplicate):
        services.sku_update(sku_id=b.pk, sku_code="a-1")
    same = services.sku_update(sku_id=a.pk, sku_code="a-1", price=Decimal("5.00"))
    assert same.sku_code == "a-1" and same.price == Decimal("5.00") and same.version == 2


def test_soft_delete_refused_with_reserved_stock():
    sku = SKUFactory()
    StockLevel.objects.create(sku=sku, warehouse=Warehouse.objects.get(code="MAIN"), on_hand=3, reserved=1)
    with pytest.raises(HasReservedStock):
        services.sku_soft_delete(sku_id=sku.pk)


def test_restore_needs_active_product():
    sku = SKUFactory()
    services.product_soft_delete(product_id=sku.product_id, cascade=True)
    with pytest.raises(ParentDeleted):
        services.sku_restore(sku_id=sku.pk)
    services.product_restore(product_id=sku.product_id)
    assert not SKU.all_objects.get(pk=sku.pk).is_deleted


def test_hard_delete_refused_with_stock_history():
    sku = SKUFactory()
    warehouse = Warehouse.objects.get(code="MAIN")
    StockLevel.objects.create(sku=sku, warehouse=warehouse, on_hand=1)
    StockMovement.objects.create(sku=sku, warehouse=warehouse, delta=1, reason="receipt", balance_after=1)
    with pytest.raises(HasDependents):
        services.sku_hard_delete(sku_id=sku.pk)
    assert SKU.all_objects.filter(pk=sku.pk).exists()
