"""Placing lines that name no warehouse: the priority and most_stock strategies, splits, safety stock."""

import pytest

from stock.exceptions import LinesRefused
from stock.models import ReservationLine, StockLevel
from stock.selectors_integrity import stock_drifts
from stock.services import ReservationRequestLine, reservation_create, stock_receive
from tests.stock.factories import WarehouseFactory


@pytest.fixture
def three(sku, main):
    """MAIN (default) 4 units, NORTH 6, SOUTH 9; all priority 100."""
    north, south = WarehouseFactory(code="NORTH", name="North"), WarehouseFactory(code="SOUTH", name="South")
    for warehouse, units in ((main, 4), (north, 6), (south, 9)):
        stock_receive(sku=sku, warehouse=warehouse, quantity=units)
    return main, north, south


def reserve(sku, quantity, **kwargs):
    return reservation_create(reference="R", lines=[ReservationRequestLine(sku=sku, quantity=quantity)], **kwargs)


def placed(reservation) -> list[tuple[str, int]]:
    return [
        (line.warehouse.code, line.quantity)
        for line in ReservationLine.objects.filter(reservation=reservation).select_related("warehouse").order_by("pk")
    ]


def test_priority_takes_the_default_first_among_equals(sku, three):
    assert placed(reserve(sku, 3)) == [("MAIN", 3)]


def test_priority_takes_the_first_by_priority_that_has_enough(sku, three):
    main, north, south = three
    north.priority, south.priority = 5, 1
    north.save()
    south.save()
    assert placed(reserve(sku, 5)) == [("SOUTH", 5)]
    assert placed(reserve(sku, 5)) == [("NORTH", 5)]  # SOUTH has 4 left


def test_most_stock_takes_the_warehouse_with_the_most_available(sku, three, settings):
    settings.STOCK_ALLOCATION_STRATEGY = "most_stock"
    assert placed(reserve(sku, 2)) == [("SOUTH", 2)]
    assert placed(reserve(sku, 2)) == [("SOUTH", 2)]  # 7 left
    assert placed(reserve(sku, 2)) == [("NORTH", 2)]  # SOUTH 5 left, NORTH 6
    assert placed(reserve(sku, 2)) == [("SOUTH", 2)]  # SOUTH 5, NORTH 4


def test_no_single_warehouse_covers_the_line_without_allow_split(sku, three):
    with pytest.raises(LinesRefused) as refused:
        reserve(sku, 12)
    assert refused.value.code == "insufficient_stock"
    assert refused.value.errors["lines"]["0"] == {"sku_code": sku.sku_code, "available": 9, "requested": 12}
    assert StockLevel.objects.filter(sku=sku, reserved__gt=0).count() == 0


def test_allow_split_takes_the_fewest_warehouses_then_the_priority_order(sku, three):
    reservation = reserve(sku, 12, allow_split=True)
    # 2 warehouses suffice: MAIN+SOUTH (13) comes first in the priority order (MAIN, NORTH, SOUTH)
    # of the pairs that cover 12 (MAIN+NORTH holds only 10).
    assert placed(reservation) == [("MAIN", 4), ("SOUTH", 8)]
    assert stock_drifts() == []


def test_allow_split_over_every_warehouse_and_its_refusal(sku, three):
    assert placed(reserve(sku, 19, allow_split=True)) == [("MAIN", 4), ("NORTH", 6), ("SOUTH", 9)]
    with pytest.raises(LinesRefused):
        reserve(sku, 1, allow_split=True)


def test_allow_split_by_most_stock(sku, three, settings):
    settings.STOCK_ALLOCATION_STRATEGY = "most_stock"
    assert placed(reserve(sku, 14, allow_split=True)) == [("SOUTH", 9), ("NORTH", 5)]


def test_reservations_never_take_safety_stock_nor_unsellable_units(stocked, main):
    StockLevel.objects.filter(sku=stocked).update(safety_stock=3, damaged=2, quality_control=1)
    with pytest.raises(LinesRefused) as refused:
        reserve(stocked, 5)
    assert refused.value.errors["lines"]["0"]["available"] == 4
    assert placed(reserve(stocked, 4)) == [("MAIN", 4)]


@pytest.mark.parametrize(
    ("quantity", "available", "expected"),
    [
        (5, [5, 9, 1], [("W1", 5)]),
        (10, [2, 3, 9], [("W1", 2), ("W3", 8)]),
        (10, [0, 3, 9], [("W2", 3), ("W3", 7)]),
        (12, [1, 5, 5, 7], [("W2", 5), ("W4", 7)]),
        (30, [5, 9], None),
    ],
)
def test_split_chooses_the_fewest_warehouses_earliest_in_order(sku, main, quantity, available, expected):
    """The split of `stock_reservation_place`: warehouses W1, W2... in the priority order (MAIN is
    last, empty), each holding `available`."""
    main.priority = 1000
    main.save()
    for n, units in enumerate(available, start=1):
        warehouse = WarehouseFactory(code=f"W{n}", name=f"W{n}", priority=n)
        if units:
            stock_receive(sku=sku, warehouse=warehouse, quantity=units)
    if expected is None:
        with pytest.raises(LinesRefused) as refused:
            reserve(sku, quantity, allow_split=True)
        assert refused.value.errors["lines"]["0"] == {
            "sku_code": sku.sku_code,
            "available": max(available),
            "requested": quantity,
        }
        assert StockLevel.objects.filter(sku=sku, reserved__gt=0).count() == 0
        return
    assert placed(reserve(sku, quantity, allow_split=True)) == expected
    assert stock_drifts() == []
