"""purge_deleted: hard-deletes old soft-deleted rows, children first, never what the ledger needs."""

from datetime import timedelta

import pytest
from django.core.management import CommandError
from django.utils import timezone

from catalog.models import SKU, Category, Product
from catalog.services import category_soft_delete, product_soft_delete, sku_soft_delete
from stock.models import StockLevel, Warehouse
from stock.services import stock_adjust, stock_receive
from tests.catalog.factories import CategoryFactory, ProductFactory, SKUFactory
from tests.commands.conftest import assert_tree_sound
from tests.stock.factories import WarehouseFactory


def age(model, pk, days: int) -> None:
    """Pretend the row was soft-deleted `days` ago."""
    model.all_objects.filter(pk=pk).update(deleted_at=timezone.now() - timedelta(days=days))


@pytest.fixture
def catalog(db):
    """Rows deleted 40 days ago, except `recent` (2 days)."""
    main = Warehouse.objects.get(is_default=True)
    root = CategoryFactory(name="Root")
    old_branch = CategoryFactory(name="Old branch", parent=root)
    old_leaf = CategoryFactory(name="Old leaf", parent=old_branch)
    CategoryFactory(name="Kept", parent=root)
    rows = {"root": root, "old_branch": old_branch, "old_leaf": old_leaf}

    kept_product = ProductFactory(name="Kept product", category=root)
    rows["plain"] = SKUFactory(sku_code="PLAIN", product=kept_product)  # no stock ever: purged
    rows["ledger"] = SKUFactory(sku_code="LEDGER", product=kept_product)  # stock came and went: kept
    stock_receive(sku=rows["ledger"], quantity=3)
    stock_adjust(sku=rows["ledger"], delta=-3, reason="loss")
    rows["holding"] = SKUFactory(sku_code="HOLDING", product=kept_product)  # still holds stock: kept
    rows["recent"] = SKUFactory(sku_code="RECENT", product=kept_product)  # deleted 2 days ago: kept
    StockLevel.objects.create(sku=rows["plain"], warehouse=main)  # an empty level goes with it

    gone_product = ProductFactory(name="Gone product", category=old_leaf)
    rows["gone_sku"] = SKUFactory(sku_code="GONE", product=gone_product)
    for key in ("plain", "ledger", "recent", "gone_sku"):
        sku_soft_delete(sku_id=rows[key].pk)
    SKU.all_objects.filter(pk=rows["holding"].pk).update(is_deleted=True, deleted_at=timezone.now())
    stock_level = StockLevel.objects.create(sku=rows["holding"], warehouse=main, on_hand=2)
    rows["holding_level"] = stock_level
    product_soft_delete(product_id=gone_product.pk)
    category_soft_delete(category_id=old_leaf.pk)
    category_soft_delete(category_id=old_branch.pk)
    rows["gone_product"] = gone_product

    rows["empty_wh"] = WarehouseFactory(code="OLD")
    rows["used_wh"] = WarehouseFactory(code="USED")
    sku = SKUFactory(sku_code="MOVED")
    stock_receive(sku=sku, warehouse=rows["used_wh"], quantity=1)
    stock_adjust(sku=sku, warehouse=rows["used_wh"], delta=-1, reason="damage")
    Warehouse.all_objects.filter(pk__in=[rows["empty_wh"].pk, rows["used_wh"].pk]).update(
        is_deleted=True, deleted_at=timezone.now()
    )

    for model, key in (
        (SKU, "plain"),
        (SKU, "ledger"),
        (SKU, "holding"),
        (SKU, "gone_sku"),
        (Product, "gone_product"),
        (Category, "old_leaf"),
        (Category, "old_branch"),
        (Warehouse, "empty_wh"),
        (Warehouse, "used_wh"),
    ):
        age(model, rows[key].pk, 40)
    age(SKU, rows["recent"].pk, 2)
    return rows


def exists(model, obj) -> bool:
    return model.all_objects.filter(pk=obj.pk).exists()


def test_purge_deletes_old_rows_children_first_and_keeps_what_the_ledger_needs(run, catalog):
    output = run("purge_deleted", "--older-than", "30")

    assert output.summary.startswith(
        "Purged: 2 skus, 1 products, 2 categories, 1 warehouses, 1 stock levels; "
        "kept for the ledger: 2 skus, 1 warehouses ("
    )
    assert not exists(SKU, catalog["plain"]) and not exists(SKU, catalog["gone_sku"])
    assert exists(SKU, catalog["ledger"]) and exists(SKU, catalog["holding"]) and exists(SKU, catalog["recent"])
    assert not exists(Product, catalog["gone_product"])
    assert not exists(Category, catalog["old_leaf"]) and not exists(Category, catalog["old_branch"])
    assert exists(Category, catalog["root"])
    assert not exists(Warehouse, catalog["empty_wh"]) and exists(Warehouse, catalog["used_wh"])
    assert StockLevel.objects.filter(pk=catalog["holding_level"].pk).exists()
    assert_tree_sound()


def test_dry_run_lists_and_deletes_nothing(run, catalog):
    counts = (
        SKU.all_objects.count(),
        Product.all_objects.count(),
        Category.all_objects.count(),
        Warehouse.all_objects.count(),
    )

    output = run("purge_deleted", "--older-than", "30", "--dry-run")

    assert "would delete SKU PLAIN (id" in output.out
    assert "would delete category Root/Old branch/Old leaf (id" in output.out
    assert output.out.index("Old branch/Old leaf") < output.out.index("category Root/Old branch (id")
    assert output.summary.startswith("Dry run, nothing deleted; would purge: 2 skus, 1 products, 2 categories")
    assert counts == (
        SKU.all_objects.count(),
        Product.all_objects.count(),
        Category.all_objects.count(),
        Warehouse.all_objects.count(),
    )


def test_retention_counts_from_deleted_at(run, catalog):
    run("purge_deleted", "--older-than", "60")
    assert exists(SKU, catalog["plain"])

    run("purge_deleted", "--older-than", "1")
    assert not exists(SKU, catalog["recent"])


def test_older_than_is_required_and_not_negative(run, db):
    with pytest.raises(CommandError):
        run("purge_deleted")
    with pytest.raises(CommandError):
        run("purge_deleted", "--older-than", "-1")
