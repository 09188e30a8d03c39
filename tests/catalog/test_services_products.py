"""Product services: create in active categories, cascade delete and restore with SKUs."""

import pytest

from catalog import services
from catalog.exceptions import HasDependents, InvalidInput, NotFound, ParentDeleted
from catalog.models import SKU, Product
from stock.exceptions import HasReservedStock
from stock.models import StockLevel, Warehouse
from tests.catalog.factories import CategoryFactory, ProductFactory, SKUFactory

pytestmark = pytest.mark.django_db


def test_create_sets_slug_and_needs_active_category():
    category = CategoryFactory()
    product = services.product_create(name="Blue T-Shirt", category_id=category.pk, attributes={"a": 1})
    assert product.slug == "blue-t-shirt" and product.version == 1
    gone = CategoryFactory()
    services.category_soft_delete(category_id=gone.pk)
    for category_id in (gone.pk, 987654):
        with pytest.raises(InvalidInput) as exc:
            services.product_create(name="X", category_id=category_id)
        assert "category_id" in exc.value.errors
    assert Product.all_objects.count() == 1


def test_update_changes_fields_and_category():
    product = ProductFactory(name="Old")
    other = CategoryFactory()
    updated = services.product_update(product_id=product.pk, name="New Name", category_id=other.pk, expected_version=1)
    assert (updated.name, updated.slug, updated.category_id, updated.version) == ("New Name", "new-name", other.pk, 2)


def test_delete_with_active_skus_needs_cascade():
    sku = SKUFactory()
    with pytest.raises(HasDependents) as exc:
        services.product_soft_delete(product_id=sku.product_id)
    assert exc.value.errors == {"skus": 1}
    product = services.product_soft_delete(product_id=sku.product_id, cascade=True)
    assert product.is_deleted and product.version == 2
    sku.refresh_from_db()
    assert sku.is_deleted and sku.deleted_with_product and sku.version == 2


def test_cascade_refused_when_a_sku_has_reserved_stock():
    sku = SKUFactory()
    StockLevel.objects.create(sku=sku, warehouse=Warehouse.objects.get(code="MAIN"), on_hand=5, reserved=2)
    with pytest.raises(HasReservedStock) as exc:
        services.product_soft_delete(product_id=sku.product_id, cascade=True)
    assert exc.value.errors == {"sku_codes": [sku.sku_code]}
    sku.refresh_from_db()
    assert not sku.is_deleted and not Product.all_objects.get(pk=sku.product_id).is_deleted


def test_restore_brings_back_only_skus_deleted_with_it():
    product = ProductFactory()
    alone, together = SKUFactory(product=product), SKUFactory(product=product)
    services.sku_soft_delete(sku_id=alone.pk)
    services.product_soft_delete(product_id=product.pk, cascade=True)
    services.product_restore(product_id=product.pk)
    assert SKU.all_objects.get(pk=together.pk).is_deleted is False
    assert SKU.all_objects.get(pk=together.pk).deleted_with_product is False
    assert SKU.all_objects.get(pk=alone.pk).is_deleted is True


def test_restore_refused_when_category_deleted():
    product = ProductFactory()
    services.product_soft_delete(product_id=product.pk)
    services.category_soft_delete(category_id=product.category_id)
    with pytest.raises(ParentDeleted):
        services.product_restore(product_id=product.pk)
    with pytest.raises(NotFound):
        services.product_restore(product_id=424242)


def test_hard_delete_refused_while_skus_exist():
    sku = SKUFactory()
    services.sku_soft_delete(sku_id=sku.pk)
    with pytest.raises(HasDependents):
        services.product_hard_delete(product_id=sku.product_id)
    services.sku_hard_delete(sku_id=sku.pk)
    services.product_hard_delete(product_id=sku.product_id)
    assert not Product.all_objects.exists()


def test_expired_reservations_do_not_block_a_cascade():
    import datetime

    from django.utils import timezone

    from stock.models import Reservation, ReservationLine

    sku = SKUFactory()
    warehouse = Warehouse.objects.get(code="MAIN")
    StockLevel.objects.create(sku=sku, warehouse=warehouse, on_hand=5, reserved=2)
    reservation = Reservation.objects.create(
        reference="ORDER-1", expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    ReservationLine.objects.create(reservation=reservation, sku=sku, warehouse=warehouse, quantity=2)
    services.product_soft_delete(product_id=sku.product_id, cascade=True)
    assert SKU.all_objects.get(pk=sku.pk).is_deleted
