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
from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from catalog.models import BackorderPolicy
from stock.events import emit_allocated, emit_reservation
from stock.models import Reservation, ReservationLine, ReservationStatus, StockLevel
from stock.services.ledger import apply_change, lock_levels

# A reservation's TTL while some line waits on incoming stock (90 days), and once every
# line is allocated (the ordinary maximum, 7 days).
MAX_BACKORDER_TTL_SECONDS = 90 * 24 * 3600
ALLOCATED_TTL = timedelta(days=7)


def backorders_allowed(sku) -> bool:
    """Whether reservations of this SKU may take what is short from incoming stock."""
    return getattr(sku, "backorder_policy", BackorderPolicy.DENY) == BackorderPolicy.ALLOW_INCOMING


def backorder_try(*, sku_id: int, warehouse_id: int, quantity: int, now: datetime) -> int | None:
    """Hold what the level has available and backorder the rest against its incoming stock.

    Returns the units backordered, or None (nothing changed) when the level's
    `incoming - backordered` does not cover the rest.
    """
    level = lock_levels([(sku_id, warehouse_id)]).get((sku_id, warehouse_id))
    if level is None:
        return None
    take = min(quantity, level.available)
    rest = quantity - take
    if rest > level.incoming - level.backordered:
        return None
    StockLevel.objects.filter(pk=level.pk).update(
        reserved=F("reserved") + take, backordered=F("backordered") + rest,
        version=F("version") + 1, updated_at=now,
    )
    return rest


def _pairs_condition(pairs) -> Q:
    condition = Q(pk__in=[])
    for sku_id, warehouse_id in pairs:
        condition |= Q(sku_id=sku_id, warehouse_id=warehouse_id)
    return condition


def _waiting_lines(pairs):
    return ReservationLine.objects.filter(
        _pairs_condition(pairs), backordered__gt=0, reservation__status=ReservationStatus.ACTIVE,
    )


def lock_waiting(pairs, *, create=()) -> tuple[dict[int, Reservation], dict[tuple[int, int], StockLevel]]:
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
    *, levels: dict[tuple[int, int], StockLevel], reservations: dict[int, Reservation],
    incoming_changes: dict[tuple[int, int], int] | None = None, user=None, now: datetime | None = None,
) -> None:
    """On locked levels (and their locked waiting reservations): allocate waiting lines from
    what is available, oldest reservation first, then drop what `incoming` no longer covers,
    newest (and overdue) reservations first. `incoming_changes` are what the caller is about
    to add to `incoming` (negative): backorders are dropped against the figure after them,
    since the database holds `backordered <= incoming` at every statement.

    Emits `stock.level.changed` per change and `reservation.allocated` per reservation that
    got units; a reservation left without lines is released, one fully allocated has its
    `expires_at` capped at 7 days from now.
    """
    now = now or timezone.now()
    lines = list(
        _waiting_lines(levels.keys()).filter(reservation_id__in=list(reservations))
        .order_by("reservation__created_at", "reservation_id", "pk")
    )
    for line in lines:
        line.reservation = reservations[line.reservation_id]
    allocated_to: dict[int, Reservation] = {}
    touched: dict[int, Reservation] = {}
    for pair in sorted(levels):
        level = levels[pair]
        waiting = [line for line in lines if (line.sku_id, line.warehouse_id) == pair]
        for line in waiting:
            if line.reservation.expires_at <= now:
                continue  # overdue: its units go back when the expiry is recorded
            take = min(level.available, line.backordered)
            if take <= 0:
                continue
            line.backordered -= take
            line.save(update_fields=["backordered"])
            apply_change(level, reserved_delta=take, backordered_delta=-take, reservation=line.reservation,
                         reference=line.reservation.reference, user=user)
            allocated_to[line.reservation_id] = touched[line.reservation_id] = line.reservation
        excess = level.backordered - level.incoming - (incoming_changes or {}).get(pair, 0)
        newest_first = waiting[::-1]
        drop_order = [ln for ln in newest_first if ln.reservation.expires_at <= now] + [
            ln for ln in newest_first if ln.reservation.expires_at > now]
        for line in drop_order:
            if excess <= 0:
                break
            dropped = min(excess, line.backordered)
            if dropped <= 0:
                continue
            line.quantity -= dropped
            line.backordered -= dropped
            if line.quantity:
                line.save(update_fields=["quantity", "backordered"])
            else:
                line.delete()
            apply_change(level, backordered_delta=-dropped, reservation=line.reservation,
                         reference=line.reservation.reference, user=user)
            touched[line.reservation_id] = line.reservation
            excess -= dropped
    for pk in sorted(touched):
        _after_change(touched[pk], allocated=pk in allocated_to, now=now)


def _after_change(reservation: Reservation, *, allocated: bool, now: datetime) -> None:
    reservation.__dict__.pop("_prefetched_objects_cache", None)
    lines = list(reservation.lines.all())
    if not lines:
        reservation.status = ReservationStatus.RELEASED
        reservation.save(update_fields=["status", "updated_at"])
        emit_reservation(reservation, status=ReservationStatus.RELEASED)
        return
    fields = ["updated_at"]
    if not any(line.backordered for line in lines) and reservation.expires_at > now + ALLOCATED_TTL:
        reservation.expires_at = now + ALLOCATED_TTL
        fields.append("expires_at")
    reservation.save(update_fields=fields)
    if allocated:
        emit_allocated(reservation)
