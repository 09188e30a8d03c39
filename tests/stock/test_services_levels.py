"""stock_receive / stock_adjust / stock_adjust_bulk / stock_transfer / thresholds, against the database."""

import pytest

from inventory_site.exceptions import PreconditionFailed, VersionConflict
from stock.exceptions import InsufficientStock, InvalidInput, LinesRefused, OnHandConflict
from stock.models import MovementReason, StockLevel, StockMovement
from stock.services import (
    stock_adjust,
    stock_adjust_bulk,
    stock_level_update_threshold,
    stock_receive,
    stock_transfer,
)
from tests.stock.factories import SKUFactory

pytestmark = pytest.mark.django_db


def level(sku, warehouse):
    return StockLevel.objects.get(sku=sku, warehouse=warehouse)


def test_receive_creates_level_and_receipt(sku, main):
    movement = stock_receive(sku=sku, quantity=5, reference="PO-9")
    assert movement.reason == MovementReason.RECEIPT and movement.delta == 5 and movement.balance_after == 5
    lvl = level(sku, main)
    assert (lvl.on_hand, lvl.reserved, lvl.version) == (5, 0, 2)


def test_receive_zero_writes_nothing(sku):
    assert stock_receive(sku=sku, quantity=0) is None
    assert not StockLevel.objects.exists() and not StockMovement.objects.exists()


def test_adjust_delta_and_ledger(stocked, main):
    movement, lvl = stock_adjust(sku=stocked, delta=-3, reason="damage", reference="D-1", note="wet")
    assert (movement.delta, movement.balance_after, lvl.on_hand) == (-3, 7, 7)
    assert sum(StockMovement.objects.values_list("delta", flat=True)) == level(stocked, main).on_hand == 7


def test_adjust_below_zero_refused(stocked, main):
    with pytest.raises(InsufficientStock) as exc:
        stock_adjust(sku=stocked, delta=-11, reason="loss")
    assert exc.value.errors == {"available": 10, "requested": 11}
    assert level(stocked, main).on_hand == 10 and StockMovement.objects.count() == 1


def test_negative_adjust_without_level(sku):
    with pytest.raises(InsufficientStock):
        stock_adjust(sku=sku, delta=-1, reason="loss")
    assert not StockLevel.objects.exists()


def test_adjust_quantity_sets_count(stocked, main):
    movement, lvl = stock_adjust(sku=stocked, quantity=4, expected_on_hand=10, reason="count")
    assert movement.delta == -6 and lvl.on_hand == 4


def test_adjust_quantity_matching_writes_no_movement(stocked):
    movement, lvl = stock_adjust(sku=stocked, quantity=10, reason="count")
    assert movement is None and lvl.on_hand == 10 and StockMovement.objects.count() == 1


def test_adjust_expected_on_hand_mismatch(stocked, main):
    with pytest.raises(OnHandConflict) as exc:
        stock_adjust(sku=stocked, quantity=4, expected_on_hand=9, reason="count")
    assert exc.value.code == "version_conflict" and exc.value.errors == {"current_on_hand": 10}
    assert level(stocked, main).on_hand == 10


@pytest.mark.parametrize(
    "kwargs",
    [
        {"delta": 0, "reason": "receipt"},
        {"delta": 1, "reason": "transfer_in"},
        {"delta": 1, "reason": "bogus"},
        {"reason": "receipt"},
        {"delta": 1, "quantity": 1, "reason": "receipt"},
        {"delta": 2**31, "reason": "receipt"},
    ],
)
def test_adjust_invalid(sku, kwargs):
    with pytest.raises(InvalidInput):
        stock_adjust(sku=sku, **kwargs)
    assert not StockMovement.objects.exists()


def test_adjust_deleted_sku(sku):
    sku.is_deleted = True
    with pytest.raises(InvalidInput):
        stock_adjust(sku=sku, delta=1, reason="receipt")


def test_adjust_overflow_refused(stocked):
    with pytest.raises(InvalidInput):
        stock_adjust(sku=stocked, delta=2**31 - 5, reason="receipt")


def test_adjust_cannot_go_below_reserved(stocked, main):
    from stock.services import ReservationRequestLine, reservation_create

    reservation_create(reference="O-1", lines=[ReservationRequestLine(sku=stocked, quantity=8)])
    with pytest.raises(InsufficientStock) as exc:
        stock_adjust(sku=stocked, delta=-3, reason="damage")
    assert exc.value.errors == {"available": 2, "requested": 3}
    stock_adjust(sku=stocked, delta=-2, reason="damage")
    assert (level(stocked, main).on_hand, level(stocked, main).reserved) == (8, 8)


def test_bulk_all_or_nothing(stocked, main):
    other_sku = SKUFactory()
    with pytest.raises(LinesRefused) as exc:
        stock_adjust_bulk(
            lines=[
                {"sku": other_sku, "delta": 5, "reason": "receipt"},
                {"sku": stocked, "delta": -4, "reason": "sale"},
                {"sku": stocked, "delta": -7, "reason": "sale"},
            ]
        )
    assert exc.value.code == "insufficient_stock"
    assert exc.value.errors == {"lines": {"2": {"available": 6, "requested": 7}}}
    assert StockMovement.objects.count() == 1 and not StockLevel.objects.filter(sku=other_sku).exists()
    movements, levels = stock_adjust_bulk(
        lines=[
            {"sku": other_sku, "delta": 5, "reason": "receipt"},
            {"sku": stocked, "delta": -4, "reason": "sale"},
            {"sku": stocked, "delta": -6, "reason": "sale"},
        ]
    )
    assert [m.balance_after for m in movements] == [5, 6, 0]
    assert [lv.on_hand for lv in levels] == [5, 6, 0]


def test_bulk_invalid_line_named(stocked):
    with pytest.raises(LinesRefused) as exc:
        stock_adjust_bulk(
            lines=[{"sku": stocked, "delta": 1, "reason": "receipt"}, {"sku": stocked, "delta": 0, "reason": "receipt"}]
        )
    assert exc.value.code == "validation_error" and "1" in exc.value.errors["lines"]


def test_transfer_moves_available(stocked, main, other):
    movements, levels = stock_transfer(
        sku=stocked, from_warehouse=main, to_warehouse=other, quantity=4, reference="T-1"
    )
    assert [(m.reason, m.delta, m.balance_after) for m in movements] == [("transfer_out", -4, 6), ("transfer_in", 4, 4)]
    assert (level(stocked, main).on_hand, level(stocked, other).on_hand) == (6, 4)


def test_transfer_more_than_available(stocked, main, other):
    with pytest.raises(InsufficientStock) as exc:
        stock_transfer(sku=stocked, from_warehouse=main, to_warehouse=other, quantity=11)
    assert exc.value.errors == {"available": 10, "requested": 11}
    assert StockMovement.objects.count() == 1


def test_transfer_same_warehouse(stocked, main):
    with pytest.raises(InvalidInput):
        stock_transfer(sku=stocked, from_warehouse=main, to_warehouse=main, quantity=1)


def test_threshold_update_and_versions(stocked, main):
    lvl = level(stocked, main)
    updated = stock_level_update_threshold(level=lvl, low_stock_threshold=3, expected_version=lvl.version)
    assert updated.low_stock_threshold == 3 and updated.version == lvl.version + 1
    with pytest.raises(VersionConflict):
        stock_level_update_threshold(level=lvl, low_stock_threshold=4, expected_version=lvl.version)
    with pytest.raises(PreconditionFailed):
        stock_level_update_threshold(level=lvl, low_stock_threshold=4, if_match=lvl.version)
    with pytest.raises(InvalidInput):
        stock_level_update_threshold(level=lvl, low_stock_threshold=-1)
