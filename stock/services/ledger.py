"""The primitives every stock write shares: lock levels in the fixed order, move their
counters and write the ledger row in the same transaction.

Levels are locked `FOR UPDATE` in one fixed order, (sku_id, warehouse_id), everywhere,
so concurrent writers never deadlock on them; counters move with `F()` expressions so
the database, not Python, does the arithmetic.
"""

from collections.abc import Iterable
from typing import Any, cast

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from inventory_site.types import Actor
from stock.events import LevelChange, emit_level_changed, emit_level_changes, level_figures
from stock.exceptions import InvalidInput
from stock.models import InboundShipment, Reservation, StockLevel, StockMovement, StockState
from stock.selectors import LevelAvailable, level_available_sql

MAX_QUANTITY = 2**31 - 1
COUNTERS = ("on_hand", "reserved", "damaged", "quality_control", "backordered", "incoming")
# The states with a counter on the level; `sellable` is what on-hand holds in no other state.
STATE_COUNTERS = (StockState.DAMAGED, StockState.QUALITY_CONTROL)


def quantity_check(value: object, *, field: str, minimum: int = 0, maximum: int = MAX_QUANTITY) -> int:
    """`value` if it is a whole number in `minimum..maximum` (the bounds of a quantity column),
    else `InvalidInput` naming `field`. Every quantity, count, delta and threshold a stock
    service takes is checked here, whichever face sent it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(errors={field: ["A whole number is required."]})
    if not minimum <= value <= maximum:
        raise InvalidInput(errors={field: [f"Must be between {minimum} and {maximum}."]})
    return value


def lock_levels(
    pairs: Iterable[tuple[int, int]], *, create: Iterable[tuple[int, int]] = ()
) -> dict[tuple[int, int], StockLevel]:
    """Lock the levels of these (sku_id, warehouse_id) pairs in the fixed order; create the `create` ones first.

    Creation is `INSERT ... ON CONFLICT DO NOTHING`, so two first receipts of one SKU do
    not collide. Missing levels that were not to be created are absent from the result.
    """
    pairs = sorted(set(pairs))
    to_create = sorted(set(create))
    if to_create:
        StockLevel.objects.bulk_create(
            [StockLevel(sku_id=s, warehouse_id=w) for s, w in to_create], ignore_conflicts=True
        )
    if not pairs:
        return {}
    condition = Q()
    for sku_id, warehouse_id in pairs:
        condition |= Q(sku_id=sku_id, warehouse_id=warehouse_id)
    # Each with `available` as the database computes it (`stock_available`), as of the lock.
    locked = (
        StockLevel.objects.select_for_update()
        .filter(condition)
        # (`available` is declared on StockLevel for the type checker: this is what sets it.)
        .annotate(available=LevelAvailable())  # type: ignore[no-redef]
        .order_by("sku_id", "warehouse_id")
    )
    return {(lvl.sku_id, lvl.warehouse_id): lvl for lvl in locked}


def _forget_available(level: StockLevel) -> None:
    """A level's counters moved in memory only: the `available` it holds is stale until written."""
    vars(level).pop("available", None)


def lock_levels_of(levels: QuerySet) -> None:
    """Lock these levels in the fixed order (before a DELETE, which would lock them in scan order)."""
    list(levels.select_for_update().order_by("sku_id", "warehouse_id").values_list("pk", flat=True))


def apply_change(
    level: StockLevel,
    *,
    delta: int = 0,
    reserved_delta: int = 0,
    reason: str | None = None,
    reference: str = "",
    note: str = "",
    reservation: Reservation | None = None,
    user: Actor = None,
    backordered_delta: int = 0,
    incoming_delta: int = 0,
    state_from: str = "",
    state_to: str = "",
    quantity: int | None = None,
    inbound: InboundShipment | None = None,
) -> StockMovement | None:
    """Move a locked level's counters and write the ledger row for a non-zero `delta` or a move of
    `quantity` units between states (and its events).

    `state_from`/`state_to` name `damaged` or `quality_control` (their counters move by
    `quantity`), `sellable` (no counter: on hand in no other state) or nothing (from or to
    outside the level).
    """
    before = level_figures(level)
    now = timezone.now()
    counters = {
        "on_hand": delta,
        "reserved": reserved_delta,
        "backordered": backordered_delta,
        "incoming": incoming_delta,
    }
    for state, sign in ((state_from, -1), (state_to, 1)):
        if state in STATE_COUNTERS:
            counters[str(state)] = counters.get(str(state), 0) + sign * cast(int, quantity)  # a move names it
    moved = [(field, change) for field, change in counters.items() if change or field == "on_hand"]
    table = StockLevel._meta.db_table
    with connection.cursor() as cursor:
        # The database's `available` of the level after the change, from the UPDATE itself.
        cursor.execute(
            f"UPDATE {table} SET {', '.join(f'{field} = {field} + %s' for field, _ in moved)},"
            f" version = version + 1, updated_at = %s WHERE id = %s RETURNING {level_available_sql(table)}",
            [*(change for _, change in moved), now, level.pk],
        )
        level.available = cursor.fetchone()[0]
    # The row is locked, so the values we hold are the stored ones.
    for field, change in counters.items():
        setattr(level, field, getattr(level, field) + change)
    level.version += 1
    level.updated_at = now
    movement = (
        StockMovement.objects.create(  # type: ignore[misc]  # reason: a written row always has one; created_by: the project's User
            sku_id=level.sku_id,
            warehouse_id=level.warehouse_id,
            delta=delta,
            reason=reason,
            reference=reference,
            note=note,
            reservation=reservation,
            balance_after=level.on_hand,
            state_from=state_from,
            state_to=state_to,
            quantity=quantity,
            inbound=inbound,
            created_by=user if user is not None and user.is_authenticated else None,
        )
        if delta or quantity
        else None
    )
    emit_level_changed(
        level,
        before=before,
        movement=movement,
        reference=reference,
        reservation_id=reservation.pk if reservation else None,
        reason=reason if movement is not None else None,
    )
    return movement


class LevelChanges:
    """`apply_change` for many changes of locked levels, written in a constant number of statements.

    `add()` moves the level's counters in memory at once (so the next change sees them) and
    returns its movement, unsaved; `write()` then inserts every movement (one INSERT), moves
    every level's counters by their sums and its version by its number of changes (one
    UPDATE), and writes each change's events, in the order added (one INSERT): the rows,
    ledger and events `apply_change` writes one change at a time. The database checks each
    level's final figures, so the changes may pass through no state it would refuse.
    """

    def __init__(self, *, user: Actor = None):
        self.user = user if user is not None and user.is_authenticated else None
        self.now = timezone.now()
        self.changes: list[tuple[dict, dict, StockMovement | None, int | None, str | None, str]] = []
        self.totals: dict[int, dict[str, int]] = {}
        self.levels: dict[int, StockLevel] = {}

    def add(
        self,
        level: StockLevel,
        *,
        delta: int = 0,
        reserved_delta: int = 0,
        backordered_delta: int = 0,
        incoming_delta: int = 0,
        reason: str | None = None,
        reference: str = "",
        note: str = "",
        reservation: Reservation | None = None,
        state_from: str = "",
        state_to: str = "",
        quantity: int | None = None,
        inbound: InboundShipment | None = None,
    ) -> StockMovement | None:
        before = level_figures(level)
        counters = {
            "on_hand": delta,
            "reserved": reserved_delta,
            "backordered": backordered_delta,
            "incoming": incoming_delta,
        }
        for state, sign in ((state_from, -1), (state_to, 1)):
            if state in STATE_COUNTERS:
                counters[str(state)] = counters.get(str(state), 0) + sign * cast(int, quantity)  # a move names it
        self.levels[level.pk] = level
        total = self.totals.setdefault(level.pk, {name: 0 for name in (*COUNTERS, "changes")})
        for field, change in counters.items():
            setattr(level, field, getattr(level, field) + change)
            total[field] += change
        total["changes"] += 1
        level.version += 1
        level.updated_at = self.now
        _forget_available(level)
        movement = (
            StockMovement(  # type: ignore[misc]  # reason: a written row always has one; created_by: the project's User
                sku_id=level.sku_id,
                warehouse_id=level.warehouse_id,
                delta=delta,
                reason=reason,
                reference=reference,
                note=note,
                reservation=reservation,
                balance_after=level.on_hand,
                state_from=state_from,
                state_to=state_to,
                quantity=quantity,
                inbound=inbound,
                created_by=self.user,
            )
            if delta or quantity
            else None
        )
        self.changes.append(
            (
                level_figures(level),
                before,
                movement,
                reservation.pk if reservation else None,
                reason if movement is not None else None,
                reference,
            )
        )
        return movement

    def write(self) -> None:
        if not self.changes:
            return
        movements = [change[2] for change in self.changes if change[2] is not None]
        if movements:
            StockMovement.objects.bulk_create(movements)
        self._update_levels()
        emit_level_changes(
            [
                LevelChange(
                    after=after,
                    before=before,
                    reason=reason,
                    reference=reference,
                    cause={"movement_id": movement.pk} if movement is not None else {"reservation_id": reservation_id},
                )
                for after, before, movement, reservation_id, reason, reference in self.changes
            ]
        )
        self.changes, self.totals, self.levels = [], {}, {}

    def _update_levels(self) -> None:
        table = StockLevel._meta.db_table
        assignments = ", ".join(f"{field} = l.{field} + v.{field}" for field in COUNTERS)
        rows = ", ".join(["(" + ", ".join(["%s::bigint"] * (len(COUNTERS) + 2)) + ")"] * len(self.totals))
        params: list[Any] = [self.now]
        for pk, total in sorted(self.totals.items()):  # in id order, on rows the caller holds locked
            params += [pk, *(total[field] for field in COUNTERS), total["changes"]]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} l SET {assignments}, version = l.version + v.changes, updated_at = %s"
                f" FROM (VALUES {rows}) v(id, {', '.join(COUNTERS)}, changes) WHERE l.id = v.id"
                f" RETURNING l.id, {level_available_sql('l')}",
                params,
            )
            for pk, available in cursor.fetchall():  # the database's `available` of each level after
                self.levels[pk].available = available
