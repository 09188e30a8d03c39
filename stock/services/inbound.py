"""Inbound shipments (purchase orders): draft, open, receive, cancel.

Only open and partially received shipments count in their levels' `incoming`: opening
adds each line's outstanding units, a receipt subtracts what it received of them (never
more: an over-receipt leaves `incoming` at 0 for that line), cancelling subtracts what is
still outstanding. A receipt writes one `receipt` movement per line (into `damaged` or
`quality_control` when the units arrive in that state), then allocates the backordered
lines waiting on those levels before the units become available.

Locks: the shipment row, then waiting reservations, then levels (see
`stock.services.backorders`).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db import IntegrityError, connection, transaction
from django.db.models import CharField

from inventory_site import metrics
from inventory_site.exceptions import DomainError
from inventory_site.transactions import retry_on_deadlock
from inventory_site.types import Actor
from stock.exceptions import Duplicate, InboundNotOpen, InvalidInput, LinesRefused, OverReceipt
from stock.models import (
    INBOUND_OPEN_STATUSES,
    InboundLine,
    InboundShipment,
    InboundStatus,
    MovementReason,
    StockLevel,
    StockMovement,
    StockState,
    Warehouse,
)
from stock.services.backorders import backorders_settle, lock_waiting
from stock.services.ledger import MAX_QUANTITY, LevelChanges, lock_levels, quantity_check

EDITABLE_FIELDS = ("reference", "supplier", "warehouse", "expected_at", "note")
FIELD_LENGTHS: dict[str, int] = {
    name: cast(int, cast(CharField, InboundShipment._meta.get_field(name)).max_length)  # CharFields, with one
    for name in ("reference", "supplier", "note")
}


@dataclass
class InboundLineInput:
    """One expected line of a shipment."""

    sku: Any
    quantity_expected: int


@dataclass
class ReceiptLine:
    """Units of one SKU received, in the state they arrived in."""

    sku: Any
    quantity: int
    state: str = StockState.SELLABLE


def _check_fields(fields: dict) -> dict:
    errors = {}
    for name, limit in FIELD_LENGTHS.items():
        if name not in fields:
            continue
        value = fields[name]
        if not isinstance(value, str) or len(value) > limit or "\x00" in value:
            errors[name] = [f"Text of at most {limit} characters."]
        elif name == "reference":
            fields[name] = value = value.strip()
            if not value:
                errors[name] = ["Give the purchase order number."]
    warehouse = fields.get("warehouse")
    if "warehouse" in fields and (not isinstance(warehouse, Warehouse) or warehouse.is_deleted):
        errors["warehouse"] = [
            "This warehouse is deleted." if isinstance(warehouse, Warehouse) else "Name a warehouse."
        ]
    if fields.get("expected_at") is not None and not isinstance(fields["expected_at"], datetime):
        errors["expected_at"] = ["A date and time is required."]
    if errors:
        raise InvalidInput(errors=errors)
    return fields


def _check_lines(lines: list[InboundLineInput]) -> None:
    if not lines:
        raise InvalidInput(errors={"lines": ["Give at least one line."]})
    refused: dict[int, DomainError] = {}
    seen: set[int] = set()
    for index, line in enumerate(lines):
        try:
            quantity_check(line.quantity_expected, field="quantity_expected", minimum=1)
        except InvalidInput as exc:
            refused[index] = exc
            continue
        if getattr(line.sku, "is_deleted", False):
            refused[index] = InvalidInput(errors={"sku_code": ["This SKU is deleted."]})
        elif line.sku.pk in seen:
            refused[index] = InvalidInput(errors={"sku_code": ["This SKU is on another line already."]})
        seen.add(line.sku.pk)
    if refused:
        raise LinesRefused(refused)


def _duplicate(reference: str) -> Duplicate:
    return Duplicate(
        f"Inbound shipment {reference!r} exists already.",
        errors={"reference": ["An inbound shipment with this reference already exists."]},
    )


def _save(shipment: InboundShipment, user: Actor = None, **kwargs: Any) -> None:
    shipment._history_user = user
    try:
        with transaction.atomic():
            shipment.save(**kwargs)
    except IntegrityError as exc:
        raise _duplicate(shipment.reference) from exc


@transaction.atomic
def inbound_create(
    *,
    reference: str,
    warehouse: Warehouse,
    lines: list[InboundLineInput],
    supplier: str = "",
    expected_at: datetime | None = None,
    note: str = "",
    user: Actor = None,
) -> InboundShipment:
    """A new draft shipment; `Duplicate` when the reference is taken."""
    fields = _check_fields(
        {"reference": reference, "supplier": supplier, "warehouse": warehouse, "expected_at": expected_at, "note": note}
    )
    _check_lines(lines)
    if InboundShipment.objects.filter(reference=fields["reference"]).exists():
        raise _duplicate(fields["reference"])
    shipment = InboundShipment(  # type: ignore[misc]  # created_by: the project's User
        **fields, created_by=user if user is not None and user.is_authenticated else None
    )
    _save(shipment, user)
    InboundLine.objects.bulk_create(
        [InboundLine(shipment=shipment, sku=line.sku, quantity_expected=line.quantity_expected) for line in lines]
    )
    return shipment


def _lock(
    shipment: InboundShipment | int, *, expected_version: int | None = None, if_match: int | None = None
) -> InboundShipment:
    pk = shipment.pk if isinstance(shipment, InboundShipment) else shipment
    return InboundShipment.lock_for_write(pk, expected_version=expected_version, if_match=if_match)


def _not_in(shipment: InboundShipment, allowed: Iterable[str], action: str) -> InboundNotOpen:
    status = shipment.get_status_display().lower()
    return InboundNotOpen(
        f"{'An' if status[0] in 'aeiou' else 'A'} {status} shipment cannot be {action}.",
        errors={"status": shipment.status, "allowed": [str(s) for s in allowed]},
    )


@transaction.atomic
def inbound_update(
    *,
    shipment: InboundShipment | int,
    expected_version: int | None = None,
    if_match: int | None = None,
    lines: list[InboundLineInput] | None = None,
    user: Actor = None,
    **changes: Any,
) -> InboundShipment:
    """Change a draft: its fields, and its lines (replaced as a whole when given).

    `InboundNotOpen` once the shipment is no longer a draft; a stale version is a
    `VersionConflict` / `PreconditionFailed`.
    """
    shipment = _lock(shipment, expected_version=expected_version, if_match=if_match)
    if shipment.status != InboundStatus.DRAFT:
        raise _not_in(shipment, [InboundStatus.DRAFT], "edited")
    fields = _check_fields({k: v for k, v in changes.items() if k in EDITABLE_FIELDS})
    if lines is not None:
        _check_lines(lines)
    if (
        "reference" in fields
        and InboundShipment.objects.filter(reference=fields["reference"]).exclude(pk=shipment.pk).exists()
    ):
        raise _duplicate(fields["reference"])
    for name, value in fields.items():
        setattr(shipment, name, value)
    _save(shipment, user)
    if lines is not None:
        shipment.lines.all().delete()
        InboundLine.objects.bulk_create(
            [InboundLine(shipment=shipment, sku=line.sku, quantity_expected=line.quantity_expected) for line in lines]
        )
    return shipment


def _move_incoming(
    levels: dict, changes: dict[tuple[int, int], int], *, shipment: InboundShipment, user: Actor = None
) -> None:
    """Add `changes[pair]` (signed) to each locked level's `incoming`, and emit its event (a few statements for all)."""
    moved = LevelChanges(user=user)
    for pair in sorted(changes):
        if changes[pair]:
            moved.add(levels[pair], incoming_delta=changes[pair], reference=shipment.reference)
    moved.write()


def inbound_open(
    *,
    shipment: InboundShipment | int,
    expected_version: int | None = None,
    if_match: int | None = None,
    user: Actor = None,
) -> InboundShipment:
    """A draft goes `open`: its lines count in their levels' `incoming`."""

    @transaction.atomic
    def run() -> InboundShipment:
        locked = _lock(shipment, expected_version=expected_version, if_match=if_match)
        if locked.status != InboundStatus.DRAFT:
            raise _not_in(locked, [InboundStatus.DRAFT], "opened")
        lines = list(locked.lines.all())
        if not lines:
            raise InvalidInput(errors={"lines": ["A shipment without lines cannot be opened."]})
        pairs = [(line.sku_id, locked.warehouse_id) for line in lines]
        levels = lock_levels(pairs, create=pairs)
        changes: defaultdict[tuple[int, int], int] = defaultdict(int)
        for line in lines:
            changes[(line.sku_id, locked.warehouse_id)] += line.quantity_outstanding
        _move_incoming(levels, changes, shipment=locked, user=user)
        locked.status = InboundStatus.OPEN
        _save(locked, user)
        return locked

    return retry_on_deadlock(run)


def inbound_cancel(
    *,
    shipment: InboundShipment | int,
    expected_version: int | None = None,
    if_match: int | None = None,
    user: Actor = None,
) -> InboundShipment:
    """Cancel a draft or open shipment: its outstanding units leave `incoming`, and backordered
    units no other open shipment covers are dropped (the oldest reservation keeps its claim)."""

    @transaction.atomic
    def run() -> InboundShipment:
        locked = _lock(shipment, expected_version=expected_version, if_match=if_match)
        allowed = [InboundStatus.DRAFT, *INBOUND_OPEN_STATUSES]
        if locked.status not in allowed:
            raise _not_in(locked, allowed, "cancelled")
        if locked.status in INBOUND_OPEN_STATUSES:
            lines = list(locked.lines.all())
            pairs = [(line.sku_id, locked.warehouse_id) for line in lines]
            reservations, levels = lock_waiting(pairs)
            changes: defaultdict[tuple[int, int], int] = defaultdict(int)
            for line in lines:
                changes[(line.sku_id, locked.warehouse_id)] -= line.quantity_outstanding
            backorders_settle(levels=levels, reservations=reservations, incoming_changes=changes, user=user)
            _move_incoming(levels, changes, shipment=locked, user=user)
        locked.status = InboundStatus.CANCELLED
        _save(locked, user)
        return locked

    return retry_on_deadlock(run)


def _check_receipt_lines(lines: list[ReceiptLine]) -> None:
    """The lines' own rules, whatever the shipment: a quantity, a known state."""
    if not lines:
        raise InvalidInput(errors={"lines": ["Give at least one line."]})
    refused = {}
    for index, line in enumerate(lines):
        try:
            quantity_check(line.quantity, field="quantity", minimum=1)
        except InvalidInput as exc:
            refused[index] = exc
            continue
        if line.state not in StockState.values:
            refused[index] = InvalidInput(errors={"state": [f"Must be one of: {', '.join(StockState.values)}."]})
        elif getattr(line.sku, "is_deleted", False):
            refused[index] = InvalidInput(errors={"sku_code": ["This SKU is deleted."]})
    if refused:
        raise LinesRefused(refused)


def _check_receipt(shipment: InboundShipment, lines: list[ReceiptLine], *, allow_over_receipt: bool) -> dict:
    expected = {line.sku_id: line for line in shipment.lines.all()}
    # Every failing line in one refusal: the SKUs not on the shipment and the over-receipts.
    over: dict[int, DomainError] = {
        index: InvalidInput(errors={"sku_code": ["This SKU is not on the shipment."]})
        for index, line in enumerate(lines)
        if line.sku.pk not in expected
    }
    totals: defaultdict[int, int] = defaultdict(int)
    for line in lines:
        totals[line.sku.pk] += line.quantity
    for index, line in enumerate(lines):
        shipped = expected.get(line.sku.pk)
        if shipped is None:
            continue
        after = shipped.quantity_received + totals[line.sku.pk]
        if after > MAX_QUANTITY:
            over[index] = InvalidInput(errors={"quantity": [f"Received would exceed {MAX_QUANTITY}."]})
        elif after > shipped.quantity_expected and not allow_over_receipt:
            over[index] = OverReceipt(
                errors={
                    "sku_code": line.sku.sku_code,
                    "quantity_expected": shipped.quantity_expected,
                    "quantity_received": shipped.quantity_received,
                    "requested": totals[line.sku.pk],
                }
            )
    if over:
        raise LinesRefused(dict(sorted(over.items())))
    return expected


def _receipt_movement(
    receipts: LevelChanges, level: StockLevel, line: ReceiptLine, *, shipment: InboundShipment, note: str
) -> StockMovement:
    """One receipt on a locked level, added to `receipts`: on-hand up (into a state, when not sellable)."""
    if level.on_hand + line.quantity > MAX_QUANTITY:
        raise InvalidInput(errors={"quantity": [f"On hand would exceed {MAX_QUANTITY}."]})
    in_state = line.state != StockState.SELLABLE
    movement = receipts.add(
        level,
        delta=line.quantity,
        reason=MovementReason.RECEIPT,
        reference=shipment.reference,
        note=note,
        inbound=shipment,
        state_to=line.state if in_state else "",
        quantity=line.quantity if in_state else None,
    )
    assert movement is not None  # a receipt of units writes its row
    movement.sku, movement.warehouse = line.sku, shipment.warehouse  # what the receipt's response shows
    metrics.stock_adjusted(reason=MovementReason.RECEIPT)
    return movement


def _received_write(expected: dict[int, InboundLine]) -> None:
    """Store each shipment line's new `quantity_received` (one UPDATE for all)."""
    received = [shipped for shipped in expected.values() if shipped.quantity_received]
    if not received:
        return
    rows = ", ".join(["(%s::bigint, %s::int)"] * len(received))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {InboundLine._meta.db_table} t SET quantity_received = v.received"
            f" FROM (VALUES {rows}) v(id, received) WHERE t.id = v.id",
            [value for shipped in received for value in (shipped.pk, shipped.quantity_received)],
        )


def inbound_receive(
    *,
    shipment: InboundShipment | int,
    lines: list[ReceiptLine],
    allow_over_receipt: bool = False,
    note: str = "",
    user: Actor = None,
) -> tuple[InboundShipment, list[StockMovement], list[StockLevel]]:
    """Receive goods of an open shipment, all lines or none.

    `InboundNotOpen` unless the shipment is open or partially received; `OverReceipt` (by
    line index) when a line would pass what is expected, unless `allow_over_receipt`.
    Backordered lines waiting on these levels are allocated first, oldest reservation first.
    Returns the shipment (`partially_received`, or `received` once every line is), the
    movements in line order and the levels they changed.
    """

    _check_receipt_lines(lines)

    @transaction.atomic
    def run() -> tuple[InboundShipment, list[StockMovement], list[StockLevel]]:
        locked = _lock(shipment)
        if locked.status not in INBOUND_OPEN_STATUSES:
            raise _not_in(locked, list(INBOUND_OPEN_STATUSES), "received")
        expected = _check_receipt(locked, lines, allow_over_receipt=allow_over_receipt)
        pairs = [(line.sku.pk, locked.warehouse_id) for line in lines]
        reservations, levels = lock_waiting(pairs, create=pairs)
        # A constant number of statements per receipt, whatever its lines: the movements, the
        # levels and the events each in one statement, then the backorders and incoming likewise.
        receipts = LevelChanges(user=user)
        movements: list[StockMovement] = []
        changes: defaultdict[tuple[int, int], int] = defaultdict(int)
        for line in lines:
            shipped = expected[line.sku.pk]
            outstanding_before = shipped.quantity_outstanding
            shipped.quantity_received += line.quantity
            changes[(line.sku.pk, locked.warehouse_id)] += shipped.quantity_outstanding - outstanding_before
            level = levels[(line.sku.pk, locked.warehouse_id)]
            movements.append(_receipt_movement(receipts, level, line, shipment=locked, note=note))
        receipts.write()
        _received_write(expected)
        # Waiting lines first (before the units become available), then incoming down.
        backorders_settle(levels=levels, reservations=reservations, incoming_changes=changes, user=user)
        _move_incoming(levels, changes, shipment=locked, user=user)
        done = all(shipped.quantity_received >= shipped.quantity_expected for shipped in expected.values())
        locked.status = InboundStatus.RECEIVED if done else InboundStatus.PARTIALLY_RECEIVED
        _save(locked, user)
        shown = [levels[pair] for pair in sorted(set(pairs))]
        return locked, movements, shown

    return retry_on_deadlock(run)
