"""Stock level writes: receipts, adjustments (one or in bulk), transfers and thresholds.

Every change of `on_hand` writes its ledger row in the same transaction, through
`stock.services.ledger` (locks in the fixed order, counters moved with `F()`).
"""

import copy
from dataclasses import dataclass
from typing import Any, cast

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import SKU
from inventory_site import metrics
from inventory_site.exceptions import DomainError, PreconditionFailed, VersionConflict
from inventory_site.types import Actor
from stock.events import emit_level_changed, level_figures
from stock.exceptions import InsufficientStock, InvalidInput, LinesRefused, OnHandConflict
from stock.models import MovementReason, StockLevel, StockMovement, StockState, Warehouse
from stock.selectors import warehouse_default
from stock.services.ledger import MAX_QUANTITY, apply_change, lock_levels, quantity_check
from stock.services.reservations import retry_after_expiry

ADJUSTMENT_REASONS = (
    MovementReason.RECEIPT,
    MovementReason.RETURN,
    MovementReason.DAMAGE,
    MovementReason.LOSS,
    MovementReason.CORRECTION,
    MovementReason.COUNT,
    MovementReason.SALE,
)
# The states whose units an adjustment may write off (`from_state`): the API and the admin offer these.
WRITE_OFF_STATES = (StockState.DAMAGED, StockState.QUALITY_CONTROL)


@dataclass
class AdjustmentLine:
    """One requested adjustment: `delta`, or `quantity` (a count) with an optional `expected_on_hand`."""

    sku: Any
    reason: str
    warehouse: Warehouse | None = None
    delta: int | None = None
    quantity: int | None = None
    expected_on_hand: int | None = None
    reference: str = ""
    note: str = ""
    from_state: str = ""


def _default_warehouse() -> Warehouse:
    warehouse = warehouse_default()
    if warehouse is None:
        raise InvalidInput(errors={"warehouse": ["There is no default warehouse; name one."]})
    return warehouse


def _line_error(line: AdjustmentLine, level: StockLevel | None) -> tuple[int, DomainError | None]:
    """The signed change this line makes to `level`, or the error that refuses it."""
    on_hand = level.on_hand if level else 0
    # Units on hand in another state stay: reserved, damaged, in quality control.
    held = (level.reserved + level.damaged + level.quality_control) if level else 0
    if line.quantity is not None:
        if line.expected_on_hand is not None and line.expected_on_hand != on_hand:
            return 0, OnHandConflict(on_hand)
        delta = line.quantity - on_hand
    else:
        delta = cast(int, line.delta)  # `_prepare` let through one of delta and quantity
    result = on_hand + delta
    if line.from_state:  # a write-off: on_hand and the state's units drop together
        held_in_state = getattr(level, line.from_state) if level else 0
        if -delta > held_in_state:
            return delta, InsufficientStock(errors={line.from_state: held_in_state, "requested": -delta})
    elif result < held:
        return delta, InsufficientStock(errors={"available": on_hand - held, "requested": -delta})
    if result > MAX_QUANTITY:
        return delta, InvalidInput(errors={"delta": [f"On hand would exceed {MAX_QUANTITY}."]})
    return delta, None


@transaction.atomic
def _adjust_lines(lines: list[AdjustmentLine], *, user: Actor = None) -> tuple[list, list, dict[int, DomainError]]:
    # (`_prepare` gave each line its warehouse.)
    pairs = [(line.sku.pk, cast(Warehouse, line.warehouse).pk) for line in lines]
    create = [
        pair for pair, line in zip(pairs, lines, strict=True) if line.quantity is not None or (line.delta or 0) > 0
    ]
    levels = lock_levels(pairs, create=create)
    movements: list[StockMovement | None] = []
    snapshots: list[StockLevel] = []
    errors: dict[int, DomainError] = {}
    for index, (pair, line) in enumerate(zip(pairs, lines, strict=True)):
        level = levels.get(pair)
        delta, error = _line_error(line, level)
        if error is not None:
            errors[index] = error
            continue
        assert level is not None  # created for a count or a receipt; a missing one has nothing to take
        movement = None
        if delta:
            write_off: dict[str, Any] = {"state_from": line.from_state, "quantity": -delta} if line.from_state else {}
            movement = apply_change(
                level,
                delta=delta,
                reason=line.reason,
                reference=line.reference,
                note=line.note,
                user=user,
                **write_off,
            )
            metrics.stock_adjusted(reason=line.reason)
            assert movement is not None  # a non-zero delta writes its row
            movement.sku, movement.warehouse = line.sku, cast(Warehouse, line.warehouse)
        level.sku, level.warehouse = line.sku, cast(Warehouse, line.warehouse)
        movements.append(movement)
        snapshots.append(copy.copy(level))
    if errors:
        transaction.set_rollback(True)
    return movements, snapshots, errors


def _prepare(line: AdjustmentLine) -> AdjustmentLine:
    if line.reason not in ADJUSTMENT_REASONS:
        raise InvalidInput(errors={"reason": [f"Must be one of: {', '.join(ADJUSTMENT_REASONS)}."]})
    if getattr(line.sku, "is_deleted", False):
        raise InvalidInput(errors={"sku_code": ["This SKU is deleted."]})
    if (line.delta is None) == (line.quantity is None):
        raise InvalidInput(errors={"delta": ["Give either delta or quantity."]})
    if line.delta is not None:
        quantity_check(line.delta, field="delta", minimum=-MAX_QUANTITY)
        if line.delta == 0:
            raise InvalidInput(errors={"delta": ["Must not be zero."]})
        if line.expected_on_hand is not None:
            raise InvalidInput(errors={"expected_on_hand": ["Only with quantity."]})
    else:
        quantity_check(line.quantity, field="quantity")
        if line.expected_on_hand is not None:
            quantity_check(line.expected_on_hand, field="expected_on_hand")
    if line.from_state:
        if line.from_state not in WRITE_OFF_STATES:
            raise InvalidInput(errors={"from_state": [f"Must be one of: {', '.join(WRITE_OFF_STATES)}."]})
        if line.reason != MovementReason.DAMAGE:
            raise InvalidInput(errors={"reason": ["A write-off has reason damage."]})
        if line.delta is None or line.delta >= 0:
            raise InvalidInput(errors={"delta": ["A write-off is a negative delta."]})
    if line.warehouse is None:
        line.warehouse = _default_warehouse()
    elif line.warehouse.is_deleted:
        raise InvalidInput(errors={"warehouse": ["This warehouse is deleted."]})
    return line


def stock_adjust(
    *,
    sku: SKU,
    warehouse: Warehouse | None = None,
    delta: int | None = None,
    quantity: int | None = None,
    expected_on_hand: int | None = None,
    reason: str,
    reference: str = "",
    note: str = "",
    from_state: str = "",
    user: Actor = None,
) -> tuple[StockMovement | None, StockLevel]:
    """Change one level's on-hand by `delta`, or set it to `quantity` (a count).

    `from_state` one of `WRITE_OFF_STATES` (reason `damage`, a negative delta) writes units of
    that state off: `on_hand` and the state's counter drop together. Returns the movement (None when a count matched
    on-hand) and the level after it. Raises `InsufficientStock` when on-hand would drop
    below what is reserved, damaged or in quality control (or a write-off exceeds the state's
    units), `OnHandConflict` when `expected_on_hand` is stale, `InvalidInput` for a zero
    delta, an unknown reason or a deleted SKU or warehouse.
    """
    line = _prepare(
        AdjustmentLine(
            sku=sku,
            warehouse=warehouse,
            delta=delta,
            quantity=quantity,
            expected_on_hand=expected_on_hand,
            reason=reason,
            reference=reference,
            note=note,
            from_state=from_state or "",
        )
    )

    def run() -> tuple[StockMovement | None, StockLevel]:
        movements, levels, errors = _adjust_lines([line], user=user)
        if errors:
            raise errors[0]
        return movements[0], levels[0]

    return retry_after_expiry(run, sku_ids=[sku.pk])


def _prepared(lines: dict[int, dict]) -> tuple[list[AdjustmentLine], dict[int, DomainError]]:
    """The lines that pass the adjustment rules, and the refusal of each other line by its index."""
    prepared, invalid = [], {}
    for index, raw in lines.items():
        try:
            prepared.append(_prepare(AdjustmentLine(**raw)))
        except DomainError as exc:
            invalid[index] = exc
    return prepared, invalid


def adjustment_lines_refused(*, lines: dict[int, dict]) -> dict[int, DomainError]:
    """The rules of each adjustment line (no stock read, nothing written), by the line's index:
    a request with other bad lines names these too, so that one answer names every failing line."""
    return _prepared(lines)[1]


def stock_adjust_bulk(*, lines: list[dict], user: Actor = None) -> tuple[list[StockMovement | None], list[StockLevel]]:
    """Apply every adjustment or none. Lines are dicts of `stock_adjust` arguments.

    A refused line is reported under its index: `errors: {"lines": {"2": {...}}}`; the
    error's code is that of the first refused line.
    """
    prepared, invalid = _prepared(dict(enumerate(lines)))
    if invalid:
        raise LinesRefused(invalid)

    def run() -> tuple[list[StockMovement | None], list[StockLevel]]:
        movements, levels, errors = _adjust_lines(prepared, user=user)
        if errors:
            raise LinesRefused(errors)
        return movements, levels

    return retry_after_expiry(run, sku_ids={line.sku.pk for line in prepared})


def stock_receive(
    *,
    sku: SKU,
    warehouse: Warehouse | None = None,
    quantity: int,
    reason: str = MovementReason.RECEIPT,
    reference: str = "",
    note: str = "",
    user: Actor = None,
) -> StockMovement | None:
    """Receive `quantity` units (a `receipt` movement by default); 0 writes nothing."""
    if quantity_check(quantity, field="quantity") == 0:
        return None
    movement, _level = stock_adjust(
        sku=sku,
        warehouse=warehouse,
        delta=quantity,
        reason=reason,
        reference=reference,
        note=note,
        user=user,
    )
    return movement


def stock_transfer(
    *,
    sku: SKU,
    from_warehouse: Warehouse,
    to_warehouse: Warehouse,
    quantity: int,
    reference: str = "",
    note: str = "",
    user: Actor = None,
) -> tuple[list[StockMovement], list[StockLevel]]:
    """Move `quantity` available units between warehouses: `transfer_out` and `transfer_in` together.

    Returns `([out, in], [from_level, to_level])`.
    """
    if getattr(sku, "is_deleted", False):
        raise InvalidInput(errors={"sku_code": ["This SKU is deleted."]})
    if from_warehouse.pk == to_warehouse.pk:
        raise InvalidInput(errors={"to_warehouse": ["Must differ from from_warehouse."]})
    for name, warehouse in (("from_warehouse", from_warehouse), ("to_warehouse", to_warehouse)):
        if warehouse.is_deleted:
            raise InvalidInput(errors={name: ["This warehouse is deleted."]})
    quantity_check(quantity, field="quantity", minimum=1)
    source, target = (sku.pk, from_warehouse.pk), (sku.pk, to_warehouse.pk)

    @transaction.atomic
    def run() -> tuple[list[StockMovement], list[StockLevel]]:
        levels = lock_levels([source, target], create=[target])
        from_level, to_level = levels.get(source), levels[target]
        available = from_level.available if from_level else 0
        if available < quantity:
            raise InsufficientStock(errors={"available": available, "requested": quantity})
        assert from_level is not None  # a missing level has 0 available, refused above
        if to_level.on_hand + quantity > MAX_QUANTITY:
            raise InvalidInput(errors={"quantity": [f"On hand at the target would exceed {MAX_QUANTITY}."]})
        out = apply_change(
            from_level, delta=-quantity, reason=MovementReason.TRANSFER_OUT, reference=reference, note=note, user=user
        )
        into = apply_change(
            to_level, delta=quantity, reason=MovementReason.TRANSFER_IN, reference=reference, note=note, user=user
        )
        assert out is not None and into is not None  # a non-zero delta writes its row
        from_level.sku = to_level.sku = out.sku = into.sku = sku
        from_level.warehouse, to_level.warehouse = from_warehouse, to_warehouse
        out.warehouse, into.warehouse = from_warehouse, to_warehouse
        return [out, into], [from_level, to_level]

    return retry_after_expiry(run, sku_ids=[sku.pk])


UNSET = object()


@transaction.atomic
def stock_level_update_settings(
    *,
    level: StockLevel,
    low_stock_threshold: int | None = None,
    safety_stock: int | None = None,
    reorder_point: object = UNSET,
    reorder_quantity: object = UNSET,
    expected_version: int | None = None,
    if_match: int | None = None,
    user: Actor = None,
) -> StockLevel:
    """Set a level's settings: `low_stock_threshold`, `safety_stock` (None: unchanged),
    `reorder_point`, `reorder_quantity` (None: off/default; not given: unchanged). A
    compare-and-set on `version` when `expected_version`/`if_match` is given.

    Without a setting nothing changes (the preconditions are still checked): a write that
    names only read-only fields is not an error.
    """
    changes: dict[str, int | None] = {}
    value: object
    for field, value in (("low_stock_threshold", low_stock_threshold), ("safety_stock", safety_stock)):
        if value is not None:
            changes[field] = quantity_check(value, field=field)
    for field, value, minimum in (("reorder_point", reorder_point, 0), ("reorder_quantity", reorder_quantity, 1)):
        if value is not UNSET:
            changes[field] = None if value is None else quantity_check(value, field=field, minimum=minimum)
    locked = StockLevel.objects.select_for_update().get(pk=level.pk)
    if if_match is not None and if_match != locked.version:
        raise PreconditionFailed(locked.version)
    if expected_version is not None and expected_version != locked.version:
        raise VersionConflict(locked.version)
    if changes:
        StockLevel.objects.filter(pk=level.pk).update(**changes, version=F("version") + 1, updated_at=timezone.now())
        if "safety_stock" in changes and changes["safety_stock"] != locked.safety_stock:
            # What is available moved: the level's event (and any low/out crossing) says so.
            after = StockLevel.objects.get(pk=level.pk)
            emit_level_changed(after, before=level_figures(locked), reason=None)
    return StockLevel.objects.select_related("sku", "warehouse").get(pk=level.pk)


def stock_level_update_threshold(
    *, level: StockLevel, low_stock_threshold: int | None = None, **kwargs: Any
) -> StockLevel:
    """Set a level's `low_stock_threshold` (`stock_level_update_settings` with that one setting)."""
    return stock_level_update_settings(level=level, low_stock_threshold=low_stock_threshold, **kwargs)
