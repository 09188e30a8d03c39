"""low_stock_report: levels whose available quantity is at or below the threshold, furthest below first."""

import os
import subprocess
import sys

import pytest
from django.core.management import CommandError
from django.db import connection

from catalog.services import sku_soft_delete
from stock.models import StockLevel, Warehouse
from stock.services import stock_receive
from stock.services.reservations import ReservationRequestLine, reservation_create
from tests.stock.factories import SKUFactory, WarehouseFactory


@pytest.fixture
def levels(db):
    main = Warehouse.objects.get(is_default=True)
    east = WarehouseFactory(code="EAST")

    def level(code, warehouse, quantity, threshold):
        sku = SKUFactory(sku_code=code)
        stock_receive(sku=sku, warehouse=warehouse, quantity=quantity)
        StockLevel.objects.filter(sku=sku, warehouse=warehouse).update(low_stock_threshold=threshold)
        return sku

    level("OK-1", main, 20, 5)  # above: not listed
    level("EDGE-1", main, 5, 5)  # at the threshold: listed, shortfall 0
    held = level("HELD-1", east, 6, 3)  # 6 on hand, 4 reserved: available 2, shortfall 1
    reservation_create(reference="O-1", lines=[ReservationRequestLine(sku=held, warehouse=east, quantity=4)])
    level("LOW-1", main, 1, 10)  # shortfall 9
    sku_soft_delete(sku_id=level("GONE-1", main, 1, 10).pk)


def test_table_lists_low_levels_furthest_below_first(run, levels):
    output = run("low_stock_report")
    lines = output.out.splitlines()

    assert lines[0].split() == [
        "warehouse",
        "sku_code",
        "product",
        "on_hand",
        "reserved",
        "damaged",
        "quality_control",
        "safety_stock",
        "available",
        "incoming",
        "backordered",
        "threshold",
        "shortfall",
    ]
    assert [line.split()[1] for line in lines[2:-1]] == ["LOW-1", "HELD-1", "EDGE-1"]
    assert lines[3].split()[-9:] == ["4", "0", "0", "0", "2", "0", "0", "3", "1"]
    assert output.summary.startswith("3 low stock levels")


def test_csv(run, levels):
    output = run("low_stock_report", "--format", "csv")

    assert output.out.splitlines()[0] == (
        "warehouse,sku_code,product,on_hand,reserved,damaged,quality_control,safety_stock,available,incoming,"
        "backordered,threshold,shortfall"
    )
    assert output.out.splitlines()[1].startswith("MAIN,LOW-1,")
    assert output.out.splitlines()[1].endswith(",1,0,0,0,0,1,0,0,10,9")
    assert len(output.out.splitlines()) == 4
    assert "3 low stock levels" in output.err


def test_warehouse_filter_and_bad_format(run, levels):
    assert [
        line.split(",")[1]
        for line in run("low_stock_report", "--format", "csv", "--warehouse", "east").out.splitlines()[1:]
    ] == ["HELD-1"]
    with pytest.raises(CommandError):
        run("low_stock_report", "--format", "xml")


def test_nothing_low(run, db):
    lines = run("low_stock_report").out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("0 low stock levels (")


@pytest.mark.parametrize("command", [["low_stock_report"], ["low_stock_report", "--format", "csv"]])
def test_unknown_or_deleted_warehouse_is_an_error(run, levels, command):
    with pytest.raises(CommandError, match="Unknown warehouse 'NOPE'"):
        run(*command, "--warehouse", "nope")
    gone = WarehouseFactory(code="GONE")
    gone.mark_deleted()
    gone.save()
    with pytest.raises(CommandError, match="Warehouse 'GONE' is deleted"):
        run(*command, "--warehouse", "GONE")


def test_unknown_warehouse_exits_non_zero(db):
    """Through manage.py as cron runs it: a message naming the warehouse, and exit status 1."""
    database = connection.settings_dict
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    done = subprocess.run(
        [sys.executable, "manage.py", "low_stock_report", "--warehouse", "NOPE"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DEBUG": "true", "DATABASE_URL": url},
    )
    assert done.returncode == 1
    assert "Unknown warehouse 'NOPE'" in done.stderr and "low stock levels" not in done.stdout


def test_every_state_counts_in_available(run, db):
    """10 on hand, 2 damaged, 1 in quality control, 5 safety stock: 2 available, at a threshold of 2."""
    sku = SKUFactory(sku_code="STATES-1")
    stock_receive(sku=sku, quantity=10)
    StockLevel.objects.filter(sku=sku).update(damaged=2, quality_control=1, safety_stock=5, low_stock_threshold=2)
    rows = run("low_stock_report", "--format", "csv").out.splitlines()
    assert rows[1].split(",")[1:] == ["STATES-1", sku.product.name, "10", "0", "2", "1", "5", "2", "0", "0", "2", "0"]
    StockLevel.objects.filter(sku=sku).update(safety_stock=4)  # 3 available: above the threshold
    assert len(run("low_stock_report", "--format", "csv").out.splitlines()) == 1
