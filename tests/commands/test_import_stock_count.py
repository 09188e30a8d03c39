"""import_stock_count: a count sets on-hand, one `count` movement per difference, all or nothing."""

from pathlib import Path

import pytest
from django.core.management import CommandError

from stock.models import MovementReason, StockLevel, StockMovement, Warehouse
from stock.services import stock_receive
from stock.services.reservations import ReservationRequestLine, reservation_create
from tests.stock.factories import SKUFactory, WarehouseFactory


@pytest.fixture
def main(db) -> Warehouse:
    return Warehouse.objects.get(is_default=True)


@pytest.fixture
def east(db) -> Warehouse:
    return WarehouseFactory(code="EAST", name="East")


@pytest.fixture
def skus(main, east):
    """A-1: 10 in MAIN; A-2: 5 in MAIN and 7 in EAST; A-3: no stock anywhere."""
    a1, a2, a3 = SKUFactory(sku_code="A-1"), SKUFactory(sku_code="A-2"), SKUFactory(sku_code="A-3")
    stock_receive(sku=a1, quantity=10)
    stock_receive(sku=a2, quantity=5)
    stock_receive(sku=a2, warehouse=east, quantity=7)
    return a1, a2, a3


def sheet(tmp_path: Path, text: str) -> str:
    path = tmp_path / "count.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def on_hand(sku, warehouse) -> int | None:
    level = StockLevel.objects.filter(sku=sku, warehouse=warehouse).first()
    return level.on_hand if level else None


def test_count_writes_one_movement_per_difference(run, skus, main, east, tmp_path):
    a1, a2, a3 = skus
    path = sheet(tmp_path, "sku_code,counted,warehouse\nA-1,8,\na-2,5,MAIN\nA-2,9,east\nA-3,4,\n")

    output = run("import_stock_count", path, "--reference", "COUNT-NOV")

    assert output.summary.startswith("Counted 4 lines: 3 updated (3 count movements, +6/-2 units), 1 unchanged")
    assert (on_hand(a1, main), on_hand(a2, main), on_hand(a2, east), on_hand(a3, main)) == (8, 5, 9, 4)
    counts = StockMovement.objects.filter(reason=MovementReason.COUNT).order_by("id")
    assert [(m.sku.sku_code, m.warehouse.code, m.delta, m.balance_after, m.reference) for m in counts] == [
        ("A-1", "MAIN", -2, 8, "COUNT-NOV"),
        ("A-2", "EAST", 2, 9, "COUNT-NOV"),
        ("A-3", "MAIN", 4, 4, "COUNT-NOV"),
    ]
    for level in StockLevel.objects.all():  # the ledger still sums to on-hand
        total = sum(
            StockMovement.objects.filter(sku=level.sku, warehouse=level.warehouse).values_list("delta", flat=True)
        )
        assert total == level.on_hand


def test_warehouse_option_applies_to_lines_without_one(run, skus, east, tmp_path):
    output = run("import_stock_count", sheet(tmp_path, "sku_code,counted\nA-2,3\n"), "--warehouse", "east")

    assert "1 updated" in output.summary
    assert on_hand(skus[1], east) == 3


def test_equal_counts_write_nothing(run, skus, tmp_path):
    before = StockMovement.objects.count()

    output = run("import_stock_count", sheet(tmp_path, "sku_code,counted\nA-1,10\nA-2,5\n"))

    assert "0 updated" in output.summary and "2 unchanged" in output.summary
    assert StockMovement.objects.count() == before


def test_dry_run_lists_differences_and_changes_nothing(run, skus, main, tmp_path):
    before = StockMovement.objects.count()

    output = run("import_stock_count", sheet(tmp_path, "sku_code,counted\nA-1,12\n"), "--dry-run")

    assert "line 2: A-1 in MAIN: 10 -> 12 (+2)" in output.out
    assert output.summary.startswith("Dry run, nothing changed: would count 1 lines: 1 updated")
    assert StockMovement.objects.count() == before and on_hand(skus[0], main) == 10


def test_a_count_below_reserved_is_refused_with_its_line(skus, main, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    a1 = skus[0]
    reservation_create(reference="ORDER-1", lines=[ReservationRequestLine(sku=a1, warehouse=main, quantity=6)])
    before = StockMovement.objects.count()
    path = sheet(tmp_path, "sku_code,counted\nA-2,1\nA-1,5\n")
    err = StringIO()

    with pytest.raises(CommandError, match="1 invalid line"):
        call_command("import_stock_count", path, stdout=StringIO(), stderr=err)

    assert err.getvalue().startswith("line 3: counted 5 is below the 6 units of A-1 reserved in MAIN")

    assert StockMovement.objects.count() == before
    assert on_hand(skus[1], main) == 5  # the good line was not applied either


def test_every_bad_line_is_named(skus, tmp_path, db):
    from io import StringIO

    from django.core.management import call_command

    err = StringIO()
    path = sheet(tmp_path, "sku_code,counted,warehouse\nNOPE,1,\nA-1,-1,\nA-1,x,\nA-2,1,MOON\nA-1,3,\na-1,4,main\n")
    with pytest.raises(CommandError, match="5 invalid line"):
        call_command("import_stock_count", path, stdout=StringIO(), stderr=err)

    assert err.getvalue().splitlines() == [
        "line 2: unknown sku_code 'NOPE'",
        "line 3: counted '-1' is not a whole number between 0 and 2147483647",
        "line 4: counted 'x' is not a whole number between 0 and 2147483647",
        "line 5: unknown warehouse 'MOON'",
        "line 7: A-1 in MAIN was already counted on line 6",
    ]


def test_argument_and_file_errors(run, skus, tmp_path):
    with pytest.raises(CommandError, match="Unknown warehouse"):
        run("import_stock_count", sheet(tmp_path, "sku_code,counted\nA-1,1\n"), "--warehouse", "NOWHERE")
    with pytest.raises(CommandError, match="missing column"):
        run("import_stock_count", sheet(tmp_path, "sku,count\nA-1,1\n"))
    with pytest.raises(CommandError, match="no such file"):
        run("import_stock_count", str(tmp_path / "absent.csv"))
    with pytest.raises(CommandError):
        run("import_stock_count")


def test_deleted_warehouse_option_is_an_error(run, skus, tmp_path):
    gone = Warehouse.objects.create(code="GONE", name="Gone")
    gone.mark_deleted()
    gone.save()
    before = StockMovement.objects.count()
    with pytest.raises(CommandError, match="Warehouse 'GONE' is deleted"):
        run("import_stock_count", sheet(tmp_path, "sku_code,counted\nA-1,1\n"), "--warehouse", "gone")
    assert StockMovement.objects.count() == before
