"""State moves and write-offs: the ledger row, the level's counters, the refusals (nothing written)."""

import pytest

from events.models import Event
from inventory_site.exceptions import DomainError
from stock.exceptions import InsufficientStock, InvalidInput
from stock.models import StockLevel, StockMovement
from stock.selectors_integrity import stock_drifts
from stock.services import ReservationRequestLine, reservation_create, stock_adjust, stock_state_move
from tests.stock.conftest import stored_level


def level(sku, warehouse) -> StockLevel:
    return stored_level(sku=sku, warehouse=warehouse)


def test_a_state_move_writes_a_ledger_row_without_changing_on_hand(stocked, main):
    movement, after = stock_state_move(
        sku=stocked,
        warehouse=main,
        quantity=3,
        from_state="sellable",
        to_state="damaged",
        reason="damage",
        reference="DMG-1",
    )
    assert (movement.delta, movement.state_from, movement.state_to, movement.quantity) == (0, "sellable", "damaged", 3)
    assert movement.balance_after == 10 and movement.reference == "DMG-1"
    stored = level(stocked, main)
    assert (stored.on_hand, stored.damaged, stored.sellable, stored.available) == (10, 3, 7, 7)
    assert (after.damaged, after.available) == (3, 7)
    changed = Event.objects.filter(type="stock.level.changed").latest("pk")
    assert changed.data["damaged"] == 3 and changed.data["available"] == 7 and changed.data["sellable"] == 7
    assert changed.data["cause"] == {"movement_id": movement.pk}
    assert stock_drifts() == []


def test_moves_between_the_unsellable_states_and_back(stocked, main):
    stock_state_move(
        sku=stocked, warehouse=main, quantity=4, from_state="sellable", to_state="quality_control", reason="inspection"
    )
    stock_state_move(
        sku=stocked, warehouse=main, quantity=1, from_state="quality_control", to_state="damaged", reason="inspection"
    )
    stock_state_move(
        sku=stocked, warehouse=main, quantity=3, from_state="quality_control", to_state="sellable", reason="inspection"
    )
    stored = level(stocked, main)
    assert (stored.quality_control, stored.damaged, stored.available) == (0, 1, 9)
    assert stock_drifts() == []


@pytest.mark.parametrize(
    ("source", "quantity", "held"), [("damaged", 1, 0), ("quality_control", 2, 0), ("sellable", 9, 8)]
)
def test_more_than_the_source_state_holds_is_refused_and_nothing_is_written(stocked, main, source, quantity, held):
    reservation_create(reference="R", lines=[ReservationLine(stocked, 2)])  # reserved units are not sellable
    before = StockMovement.objects.count()
    with pytest.raises(InsufficientStock) as refused:
        stock_state_move(
            sku=stocked,
            warehouse=main,
            quantity=quantity,
            from_state=source,
            to_state="damaged" if source != "damaged" else "sellable",
            reason="correction",
        )
    assert refused.value.errors == {"state": source, "in_state": held, "requested": quantity}
    assert StockMovement.objects.count() == before
    assert (level(stocked, main).damaged, level(stocked, main).quality_control) == (0, 0)


def ReservationLine(sku, quantity, warehouse=None):  # noqa: N802 - reads as the request line it builds
    return ReservationRequestLine(sku=sku, quantity=quantity, warehouse=warehouse)


def test_a_state_move_may_take_the_safety_stock(stocked, main):
    StockLevel.objects.filter(sku=stocked).update(safety_stock=8)
    _movement, after = stock_state_move(
        sku=stocked, warehouse=main, quantity=5, from_state="sellable", to_state="damaged", reason="damage"
    )
    assert (after.sellable, after.available) == (5, 0)  # available floors at 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"from_state": "broken"}, "from"),
        ({"to_state": "sellable"}, "to"),
        ({"reason": "sale"}, "reason"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"quantity": 2**31}, "quantity"),
    ],
)
def test_bad_input_names_its_field(stocked, main, changes, field):
    arguments = (
        {
            "sku": stocked,
            "warehouse": main,
            "quantity": 1,
            "from_state": "sellable",
            "to_state": "sellable",
            "reason": "damage",
        }
        | {"to_state": "damaged"}
        | changes
    )
    with pytest.raises(InvalidInput) as refused:
        stock_state_move(**arguments)
    assert field in refused.value.errors


def test_writing_off_damaged_units_drops_on_hand_and_damaged_together(stocked, main):
    stock_state_move(
        sku=stocked, warehouse=main, quantity=3, from_state="sellable", to_state="damaged", reason="damage"
    )
    movement, after = stock_adjust(sku=stocked, warehouse=main, delta=-2, reason="damage", from_state="damaged")
    assert (movement.delta, movement.state_from, movement.state_to, movement.quantity) == (-2, "damaged", "", 2)
    assert (after.on_hand, after.damaged, after.available) == (8, 1, 7)
    assert stock_drifts() == []


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"delta": -2, "reason": "loss", "from_state": "damaged"}, "reason"),
        ({"delta": 2, "reason": "damage", "from_state": "damaged"}, "delta"),
        ({"delta": -2, "reason": "damage", "from_state": "sellable"}, "from_state"),
    ],
)
def test_a_write_off_needs_reason_damage_and_a_negative_delta(stocked, main, arguments, field):
    with pytest.raises(InvalidInput) as refused:
        stock_adjust(sku=stocked, warehouse=main, **arguments)
    assert field in refused.value.errors


def test_writing_off_quality_control_units_drops_on_hand_and_quality_control_together(stocked, main):
    stock_state_move(
        sku=stocked, warehouse=main, quantity=3, from_state="sellable", to_state="quality_control", reason="inspection"
    )
    movement, after = stock_adjust(sku=stocked, warehouse=main, delta=-3, reason="damage", from_state="quality_control")
    assert (movement.delta, movement.state_from, movement.quantity) == (-3, "quality_control", 3)
    assert (after.on_hand, after.quality_control, after.available) == (7, 0, 7)
    with pytest.raises(InsufficientStock) as refused:
        stock_adjust(sku=stocked, warehouse=main, delta=-1, reason="damage", from_state="quality_control")
    assert refused.value.errors == {"quality_control": 0, "requested": 1}
    assert stock_drifts() == []


def test_a_write_off_of_more_than_is_damaged_is_refused(stocked, main):
    stock_state_move(
        sku=stocked, warehouse=main, quantity=1, from_state="sellable", to_state="damaged", reason="damage"
    )
    with pytest.raises(InsufficientStock) as refused:
        stock_adjust(sku=stocked, warehouse=main, delta=-2, reason="damage", from_state="damaged")
    assert refused.value.errors == {"damaged": 1, "requested": 2}
    assert (level(stocked, main).on_hand, level(stocked, main).damaged) == (10, 1)


def test_a_plain_adjustment_cannot_take_units_in_another_state(stocked, main):
    stock_state_move(
        sku=stocked, warehouse=main, quantity=4, from_state="sellable", to_state="quality_control", reason="inspection"
    )
    with pytest.raises(DomainError) as refused:
        stock_adjust(sku=stocked, warehouse=main, delta=-7, reason="loss")
    assert refused.value.code == "insufficient_stock" and refused.value.errors["available"] == 6
    stock_adjust(sku=stocked, warehouse=main, delta=-6, reason="loss")
    assert (level(stocked, main).on_hand, level(stocked, main).quality_control) == (4, 4)


def test_a_count_below_the_units_in_other_states_is_refused_by_line(stocked, main):
    from stock.services.counts import CountLine, stock_count_apply

    stock_state_move(
        sku=stocked, warehouse=main, quantity=4, from_state="sellable", to_state="damaged", reason="damage"
    )
    with pytest.raises(DomainError) as refused:
        stock_count_apply(lines=[CountLine(line=2, sku_code=stocked.sku_code, counted="3")])
    assert "counted 3 is below the 4 units" in refused.value.errors["line 2"]
    assert level(stocked, main).on_hand == 10
    stock_count_apply(lines=[CountLine(line=2, sku_code=stocked.sku_code, counted="4")])
    assert (level(stocked, main).on_hand, level(stocked, main).damaged) == (4, 4)
