"""Backorders: reservation lines that wait on incoming stock, and their allocation.

A line of a SKU whose `backorder_policy` is `allow_incoming` that finds too little
available holds what there is and backorders the rest against the level's
`incoming - backordered` (the open inbound shipments to that warehouse). A receipt
allocates the waiting lines, oldest reservation first, before its units become available;
when `incoming` shrinks below what is backordered (a cancelled shipment, a receipt into a
non-sellable state), the units no open shipment covers any more are dropped, the newest
reservation first (the oldest keeps its claim).

Lock order, as everywhere: reservations (by pk), then levels (by sku_id, warehouse_id).
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from catalog.models import SKU, BackorderPolicy
from inventory_site.types import Actor
from stock.events import emit_reservation_events
from stock.models import Reservation, ReservationLine, ReservationStatus, StockLevel
from stock.services.ledger import LevelChanges, lock_levels

# A reservation's TTL while some line waits on incoming stock (90 days), and once every
# line is allocated (the ordinary maximum, 7 days).
MAX_BACKORDER_TTL_SECONDS = 90 * 24 * 3600
ALLOCATED_TTL = timedelta(days=7)


def backorders_allowed(sku: SKU) -> bool:
    """Whether reservations of this SKU may take what is short from incoming stock."""
    return getattr(sku, "backorder_policy", BackorderPolicy.DENY) == BackorderPolicy.ALLOW_INCOMING


def _pairs_condition(pairs: Iterable[tuple[int, int]]) -> Q:
    condition = Q(pk__in=[])
    for sku_id, warehouse_id in pairs:
        condition |= Q(sku_id=sku_id, warehouse_id=warehouse_id)
    return condition


def _waiting_lines(pairs: Iterable[tuple[int, int]]) -> QuerySet[ReservationLine]:
    return ReservationLine.objects.filter(
        _pairs_condition(pairs),
        backordered__gt=0,
        reservation__status=ReservationStatus.ACTIVE,
    )


def lock_waiting(
    pairs: Iterable[tuple[int, int]], *, create: Iterable[tuple[int, int]] = ()
) -> tuple[dict[int, Reservation], dict[tuple[int, int], StockLevel]]:
    """Lock the active reservations with lines waiting on these levels, then the levels.

    A reservation that began waiting between the two reads (it committed meanwhile) is
    locked after the levels: the one place the order bends, so the writers it could meet
    (commit, release, expiry) retry a deadlock.
    """
    pairs = sorted(set(pairs))
    ids = set(_waiting_lines(pairs).values_list("reservation_id", flat=True))
    locked = {r.pk: r for r in Reservation.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    levels = lock_levels(pairs, create=create)
    extra = set(_waiting_lines(pairs).values_list("reservation_id", flat=True)) - locked.keys()
    if extra:
        locked.update({r.pk: r for r in Reservation.objects.select_for_update().filter(pk__in=extra).order_by("pk")})
    return locked, levels


def backorders_settle(
    *,
    levels: dict[tuple[int, int], StockLevel],
    reservations: dict[int, Reservation],
    incoming_changes: dict[tuple[int, int], int] | None = None,
    user: Actor = None,
    now: datetime | None = None,
) -> None:
    """On locked levels (and their locked waiting reservations): allocate waiting lines from
    what is available, oldest reservation first, then drop what `incoming` no longer covers,
    newest (and overdue) reservations first. `incoming_changes` are what the caller is about
    to add to `incoming` (negative): backorders are dropped against the figure after them,
    since the database holds `backordered <= incoming`.

    Emits `stock.level.changed` per change and `reservation.allocated` per reservation that
    got units; a reservation left without lines is released, one fully allocated has its
    `expires_at` capped at 7 days from now. Set-based: the same dozen statements whatever the
    number of lines and reservations (see `LevelChanges`).
    """
    now = now or timezone.now()
    if not reservations:
        return
    lines = list(
        _waiting_lines(levels.keys())
        .filter(reservation_id__in=list(reservations))
        .order_by("reservation__created_at", "reservation_id", "pk")
    )
    if not lines:
        return
    for line in lines:
        line.reservation = reservations[line.reservation_id]
    # What each level has available (the database's `stock_available`, as locked or as the
    # caller's last write returned it), less what each allocation below takes.
    free = {level.pk: level.available for level in levels.values()}
    changes = LevelChanges(user=user)
    allocated_to: set[int] = set()
    touched: set[int] = set()
    changed_lines: dict[int, ReservationLine] = {}
    for pair in sorted(levels):
        level = levels[pair]
        waiting = [line for line in lines if (line.sku_id, line.warehouse_id) == pair]
        for line in waiting:
            if line.reservation.expires_at <= now:
                continue  # overdue: its units go back when the expiry is recorded
            take = min(free[level.pk], line.backordered)
            if take <= 0:
                continue
            free[level.pk] -= take
            line.backordered -= take
            changed_lines[line.pk] = line
            changes.add(
                level,
                reserved_delta=take,
                backordered_delta=-take,
                reservation=line.reservation,
                reference=line.reservation.reference,
            )
            allocated_to.add(line.reservation_id)
            touched.add(line.reservation_id)
        excess = level.backordered - level.incoming - (incoming_changes or {}).get(pair, 0)
        newest_first = waiting[::-1]
        drop_order = [ln for ln in newest_first if ln.reservation.expires_at <= now] + [
            ln for ln in newest_first if ln.reservation.expires_at > now
        ]
        for line in drop_order:
            if excess <= 0:
                break
            dropped = min(excess, line.backordered)
            if dropped <= 0:
                continue
            line.quantity -= dropped
            line.backordered -= dropped
            changed_lines[line.pk] = line
            changes.add(
                level, backordered_delta=-dropped, reservation=line.reservation, reference=line.reservation.reference
            )
            touched.add(line.reservation_id)
            excess -= dropped
    _lines_write(list(changed_lines.values()))
    changes.write()
    _after_changes([reservations[pk] for pk in sorted(touched)], allocated=allocated_to, now=now)


def _lines_write(lines: list[ReservationLine]) -> None:
    """Store the lines' new quantity and backordered (one UPDATE), and delete those left with none (one DELETE)."""
    ReservationLine.objects.filter(pk__in=[line.pk for line in lines if not line.quantity]).delete()
    kept = [line for line in lines if line.quantity]
    if not kept:
        return
    table = ReservationLine._meta.db_table
    rows = ", ".join(["(%s::bigint, %s::int, %s::int)"] * len(kept))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} t SET quantity = v.quantity, backordered = v.backordered"
            f" FROM (VALUES {rows}) v(id, quantity, backordered) WHERE t.id = v.id",
            [value for line in kept for value in (line.pk, line.quantity, line.backordered)],
        )


def _after_changes(touched: list[Reservation], *, allocated: set[int], now: datetime) -> None:
    """Reservations whose lines changed: released when none is left, `expires_at` capped once
    nothing waits, `updated_at` moved, and their events (a few statements for all of them)."""
    if not touched:
        return
    by_reservation: dict[int, list[ReservationLine]] = {reservation.pk: [] for reservation in touched}
    for line in ReservationLine.objects.filter(reservation_id__in=list(by_reservation)).order_by("pk"):
        by_reservation[line.reservation_id].append(line)
    released: list[int] = []
    capped: list[int] = []
    others: list[int] = []
    events: list[tuple[Reservation, str]] = []  # (reservation, action)
    for reservation in touched:
        lines = by_reservation[reservation.pk]
        reservation.updated_at = now
        if not lines:
            reservation.status = ReservationStatus.RELEASED
            released.append(reservation.pk)
        elif not any(line.backordered for line in lines) and reservation.expires_at > now + ALLOCATED_TTL:
            reservation.expires_at = now + ALLOCATED_TTL
            capped.append(reservation.pk)
        else:
            others.append(reservation.pk)
        if not lines:
            events.append((reservation, ReservationStatus.RELEASED))
        elif reservation.pk in allocated:
            events.append((reservation, "allocated"))
    if released:
        Reservation.objects.filter(pk__in=released).update(status=ReservationStatus.RELEASED, updated_at=now)
    if capped:
        Reservation.objects.filter(pk__in=capped).update(expires_at=now + ALLOCATED_TTL, updated_at=now)
    if others:
        Reservation.objects.filter(pk__in=others).update(updated_at=now)
    emit_reservation_events(events)
