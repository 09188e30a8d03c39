"""State moves: units on hand moved between `sellable`, `damaged` and `quality_control`.

A state move changes no on-hand: its ledger row has `delta` 0 and carries `state_from`,
`state_to` and `quantity`, written with the level's counters under the level's lock.
`sellable` is what on-hand holds in no other state (`on_hand - reserved - damaged -
quality_control`): a state move may take units the safety stock holds back, never
reserved ones.
"""

import copy

from django.db import transaction

from catalog.models import SKU
from inventory_site.types import Actor
from stock.exceptions import InsufficientStock, InvalidInput
from stock.models import MovementReason, StockLevel, StockMovement, StockState, Warehouse
from stock.selectors import warehouse_default
from stock.services.ledger import apply_change, lock_levels, quantity_check

STATE_MOVE_REASONS = (
    MovementReason.DAMAGE,
    MovementReason.INSPECTION,
    MovementReason.CORRECTION,
    MovementReason.RETURN,
)
STATES = tuple(StockState.values)


def units_in_state(level: StockLevel | None, state: str) -> int:
    """What a level holds in `state` (`sellable`: on hand in no other state)."""
    if level is None:
        return 0
    return level.sellable if state == StockState.SELLABLE else getattr(level, state)


def _validate(
    *, sku: SKU, warehouse: Warehouse | None, quantity: object, from_state: str, to_state: str, reason: str
) -> Warehouse:
    errors = {}
    if getattr(sku, "is_deleted", False):
        errors["sku_code"] = ["This SKU is deleted."]
    for field, state in (("from", from_state), ("to", to_state)):
        if state not in STATES:
            errors[field] = [f"Must be one of: {', '.join(STATES)}."]
    if not errors and from_state == to_state:
        errors["to"] = ["Must differ from from."]
    if reason not in STATE_MOVE_REASONS:
        errors["reason"] = [f"Must be one of: {', '.join(STATE_MOVE_REASONS)}."]
    if errors:
        raise InvalidInput(errors=errors)
    quantity_check(quantity, field="quantity", minimum=1)
    if warehouse is None:
        warehouse = warehouse_default()
        if warehouse is None:
            raise InvalidInput(errors={"warehouse": ["There is no default warehouse; name one."]})
    elif warehouse.is_deleted:
        raise InvalidInput(errors={"warehouse": ["This warehouse is deleted."]})
    return warehouse


def stock_state_move(
    *,
    sku: SKU,
    warehouse: Warehouse | None = None,
    quantity: int,
    from_state: str,
    to_state: str,
    reason: str,
    reference: str = "",
    note: str = "",
    user: Actor = None,
) -> tuple[StockMovement, StockLevel]:
    """Move `quantity` units of one level from `from_state` to `to_state`; the movement and the level after.

    `InsufficientStock` (`{"state", "in_state", "requested"}`) when the source state holds too
    little, `InvalidInput` for an unknown state or reason, equal states, a bad quantity, or a
    deleted SKU or warehouse. Nothing is written on a refusal.
    """
    warehouse = _validate(
        sku=sku, warehouse=warehouse, quantity=quantity, from_state=from_state, to_state=to_state, reason=reason
    )
    with transaction.atomic():
        level = lock_levels([(sku.pk, warehouse.pk)]).get((sku.pk, warehouse.pk))
        held = units_in_state(level, from_state)
        if held < quantity:
            raise InsufficientStock(
                f"Only {held} unit(s) are {from_state.replace('_', ' ')}.",
                errors={"state": from_state, "in_state": held, "requested": quantity},
            )
        assert level is not None  # a missing level holds 0, refused above
        movement = apply_change(
            level,
            reason=reason,
            reference=reference,
            note=note,
            user=user,
            state_from=from_state,
            state_to=to_state,
            quantity=quantity,
        )
        assert movement is not None  # a move of units writes its row
        level.sku = movement.sku = sku
        level.warehouse = movement.warehouse = warehouse
        return movement, copy.copy(level)
