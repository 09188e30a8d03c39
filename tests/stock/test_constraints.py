"""The database itself holds the stock invariants: writes that skip the services are refused too."""

import pytest
from django.db import IntegrityError, transaction

from stock.models import StockLevel, StockMovement
from tests.stock.conftest import stored_level

pytestmark = pytest.mark.django_db


def _refused(write) -> str:
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        write()
    return str(exc.value)


@pytest.mark.parametrize(
    ("changes", "constraint"),
    [
        ({"on_hand": -1, "reserved": 0}, "stocklevel_on_hand_not_negative"),
        ({"reserved": -1}, "stocklevel_reserved_not_negative"),
        ({"reserved": 11}, "stocklevel_reserved_le_on_hand"),
        ({"low_stock_threshold": -1}, "stocklevel_threshold_not_negative"),
        ({"damaged": -1}, "stocklevel_damaged_not_negative"),
        ({"quality_control": -1}, "stocklevel_quality_control_not_negative"),
        ({"safety_stock": -1}, "stocklevel_safety_stock_not_negative"),
        # backordered (0) <= incoming (-1) fails as well, and PostgreSQL checks in name order.
        ({"incoming": -1}, "stocklevel_backordered_le_incoming|stocklevel_incoming_not_negative"),
        ({"reserved": 4, "damaged": 4, "quality_control": 3}, "stocklevel_states_within_on_hand"),
        # Near the int4 maximum the sum is taken in bigint: refused by the check, not an overflow error.
        ({"on_hand": 2147483647, "reserved": 2147483647, "damaged": 2147483647}, "stocklevel_states_within_on_hand"),
        ({"backordered": 1}, "stocklevel_backordered_le_incoming"),
        ({"reorder_point": -1}, "stocklevel_reorder_point_not_negative"),
        ({"reorder_quantity": 0}, "stocklevel_reorder_quantity_positive"),
    ],
)
def test_level_checks(stocked, changes, constraint):
    message = _refused(lambda: StockLevel.objects.filter(sku=stocked).update(**changes))
    assert any(name in message for name in constraint.split("|"))
    level = StockLevel.objects.get(sku=stocked)
    assert (level.on_hand, level.reserved, level.low_stock_threshold) == (10, 0, 0)


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"delta": 0, "balance_after": 10}, "movement_changes_something"),
        ({"delta": -11, "balance_after": -1}, "movement_balance_not_negative"),
        (
            {"delta": 0, "balance_after": 10, "state_from": "sellable", "state_to": "damaged"},
            "movement_changes_something",
        ),
        ({"delta": 1, "balance_after": 11, "state_to": "damaged"}, "movement_state_move_has_quantity"),
        (
            {"delta": 0, "balance_after": 10, "state_from": "damaged", "state_to": "damaged", "quantity": 1},
            "movement_states_differ",
        ),
    ],
)
def test_movement_checks(stocked, main, fields, constraint):
    before = StockMovement.objects.count()
    message = _refused(lambda: StockMovement.objects.create(sku=stocked, warehouse=main, reason="loss", **fields))
    assert constraint in message or "CHECK constraint failed" in message
    assert StockMovement.objects.count() == before


def test_a_state_move_needs_no_change_of_on_hand(stocked, main):
    move = StockMovement.objects.create(
        sku=stocked,
        warehouse=main,
        reason="damage",
        delta=0,
        balance_after=10,
        state_from="sellable",
        state_to="damaged",
        quantity=2,
    )
    assert move.pk is not None


def test_states_within_on_hand_allows_the_exact_sum(stocked):
    StockLevel.objects.filter(sku=stocked).update(reserved=4, damaged=4, quality_control=2)
    level = stored_level(sku=stocked)
    assert (level.sellable, level.available) == (0, 0)
