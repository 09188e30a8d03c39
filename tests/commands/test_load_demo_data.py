"""load_demo_data: a realistic catalog whose stock agrees with its ledger; idempotent."""

import random

import pytest
from django.core.management import CommandError
from django.db.models import Sum

from catalog.models import SKU, Category, Product
from stock.models import (
    MovementReason,
    Reservation,
    ReservationLine,
    StockLevel,
    StockMovement,
    Warehouse,
)
from stock.services.demo_data.tree import leaf_paths
from tests.commands.conftest import assert_tree_sound


def test_demo_catalog(run, db):
    output = run("load_demo_data", "--skus", "120", "--seed", "7")

    assert output.summary.startswith("Demo catalog loaded in ")
    assert SKU.objects.count() == 120
    assert Category.objects.filter(level=0).count() >= 3 and Category.objects.filter(level=2).exists()
    assert Warehouse.objects.filter(code="EAST").exists()
    sku = SKU.objects.filter(attributes__has_key="color").first()
    assert sku is not None and sku.sku_code.startswith("DM-")
    assert Product.objects.filter(skus__isnull=True).count() == 0
    assert_tree_sound()
    # The ledger explains every unit: one receipt per level, balances matching.
    for level in StockLevel.objects.all():
        movements = StockMovement.objects.filter(sku=level.sku, warehouse=level.warehouse)
        assert movements.aggregate(total=Sum("delta"))["total"] == level.on_hand
        assert set(movements.values_list("reason", flat=True)) == {MovementReason.RECEIPT}
        held = ReservationLine.objects.filter(
            sku=level.sku, warehouse=level.warehouse, reservation__status="active"
        ).aggregate(total=Sum("quantity"))
        assert (held["total"] or 0) == level.reserved
    assert Reservation.objects.filter(status="active").count() >= 2


def test_same_seed_same_catalog_and_second_run_does_nothing(run, db):
    run("load_demo_data", "--skus", "40", "--seed", "3")
    codes = list(SKU.objects.order_by("sku_code").values_list("sku_code", "price"))
    counts = (
        Category.objects.count(),
        Product.objects.count(),
        StockMovement.objects.count(),
        Reservation.objects.count(),
    )

    output = run("load_demo_data", "--skus", "40", "--seed", "3")

    assert output.summary.startswith("The demo catalog is already loaded; nothing to do")
    assert list(SKU.objects.order_by("sku_code").values_list("sku_code", "price")) == codes
    assert counts == (
        Category.objects.count(),
        Product.objects.count(),
        StockMovement.objects.count(),
        Reservation.objects.count(),
    )


def test_larger_catalogs_get_a_fourth_level():
    """Big catalogs need more leaves than the three-level vocabulary has (a real run is too slow here)."""
    assert {len(path) for path in leaf_paths(2000, random.Random(1))} == {4}
    assert {len(path) for path in leaf_paths(10, random.Random(1))} == {3}


def test_bad_arguments(run, db):
    with pytest.raises(CommandError):
        run("load_demo_data", "--skus", "0")
    with pytest.raises(CommandError):
        run("load_demo_data", "--skus", "many")
