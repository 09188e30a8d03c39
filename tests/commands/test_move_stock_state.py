"""move_stock_state: the API's state move from the command line; refusals say why and move nothing."""

import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError

from catalog.services import sku_soft_delete
from stock.models import StockLevel, StockMovement
from stock.services import stock_receive
from tests.stock.factories import SKUFactory, WarehouseFactory


@pytest.fixture
def stocked(main):
    sku = SKUFactory(sku_code="MOVE-1")
    stock_receive(sku=sku, quantity=10)
    return sku


@pytest.fixture
def main(db):
    from stock.models import Warehouse

    warehouse, _ = Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main", "is_default": True})
    return warehouse


def level_states(sku):
    level = StockLevel.objects.get(sku=sku)
    return level.on_hand, level.damaged, level.quality_control


def test_moves_units_and_says_what_the_level_holds(run, stocked):
    output = run(
        "move_stock_state",
        "move-1",
        "main",
        "sellable",
        "damaged",
        "3",
        "--reason",
        "damage",
        "--note",
        "dropped pallet",
        "--reference",
        "DMG-7",
    )

    assert output.summary.startswith("Moved 3 unit(s) of MOVE-1 in MAIN from sellable to damaged (movement ")
    assert output.summary.endswith("on hand 10, sellable 7, damaged 3, quality control 0, available 7.")
    assert level_states(stocked) == (10, 3, 0)
    movement = StockMovement.objects.get(sku=stocked, delta=0)
    assert (
        movement.state_from,
        movement.state_to,
        movement.quantity,
        movement.reason,
        movement.note,
        movement.reference,
    ) == ("sellable", "damaged", 3, "damage", "dropped pallet", "DMG-7")

    run("move_stock_state", "MOVE-1", "MAIN", "damaged", "quality_control", "2", "--reason", "inspection")
    assert level_states(stocked) == (10, 1, 2)


@pytest.mark.parametrize(
    "args, says",
    [
        (["MOVE-1", "MAIN", "damaged", "sellable", "1"], "Only 0 unit(s) are damaged."),
        (["MOVE-1", "MAIN", "sellable", "damaged", "11"], "Only 10 unit(s) are sellable."),
        (["NOPE-1", "MAIN", "sellable", "damaged", "1"], "Unknown SKU 'NOPE-1'"),
        (["MOVE-1", "WEST", "sellable", "damaged", "1"], "Unknown warehouse 'WEST'."),
        (["MOVE-1", "MAIN", "sellable", "sellable", "1"], "Invalid input."),
        (["MOVE-1", "MAIN", "sellable", "damaged", "0"], "Invalid input."),
    ],
)
def test_a_refusal_is_a_message_and_moves_nothing(run, stocked, args, says):
    with pytest.raises(CommandError, match="^" + re.escape(says)):
        run("move_stock_state", *args, "--reason", "correction")
    assert level_states(stocked) == (10, 0, 0)
    assert not StockMovement.objects.filter(delta=0).exists()


def test_a_refusal_names_the_field_on_stderr(stocked):
    from io import StringIO

    from django.core.management import call_command

    err = StringIO()
    with pytest.raises(CommandError, match="Nothing was moved"):
        call_command(
            "move_stock_state",
            "MOVE-1",
            "MAIN",
            "damaged",
            "sellable",
            "4",
            "--reason",
            "correction",
            stdout=StringIO(),
            stderr=err,
        )
    assert "in_state: 0" in err.getvalue() and "requested: 4" in err.getvalue()

    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "move_stock_state",
            "MOVE-1",
            "MAIN",
            "sellable",
            "sellable",
            "1",
            "--reason",
            "correction",
            stdout=StringIO(),
            stderr=err,
        )
    assert err.getvalue().startswith("to: ['Must differ from from.']")


def test_a_deleted_sku_or_warehouse_is_refused(run, stocked):
    gone = SKUFactory(sku_code="GONE-1")
    sku_soft_delete(sku_id=gone.pk)
    with pytest.raises(CommandError, match="Nothing was moved"):
        run("move_stock_state", "GONE-1", "MAIN", "sellable", "damaged", "1", "--reason", "damage")
    old = WarehouseFactory(code="OLD")
    old.mark_deleted()
    old.save()
    with pytest.raises(CommandError, match="Warehouse 'OLD' is deleted."):
        run("move_stock_state", "MOVE-1", "OLD", "sellable", "damaged", "1", "--reason", "damage")
    assert not StockMovement.objects.filter(delta=0).exists()


def _manage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )


@pytest.mark.slow
def test_exit_codes():
    assert _manage("move_stock_state", "--help").returncode == 0
    bad_state = _manage("move_stock_state", "X", "MAIN", "sellable", "broken", "1", "--reason", "damage")
    assert bad_state.returncode == 2 and "invalid choice: 'broken'" in bad_state.stderr
    no_reason = _manage("move_stock_state", "X", "MAIN", "sellable", "damaged", "1")
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
