"""Reservations: hold stock for an order, then commit (sold), release, or let it expire.

`reserved` moves with one conditional `UPDATE ... WHERE available >= n` per line (the one
`available`: safety stock is never reserved), so a reservation transaction is a handful of
round trips and never oversells, whatever the number of concurrent clients or processes.
Lines are placed by `stock.services.allocation` and applied in the fixed
(sku_id, warehouse_id) order used for every level lock.
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inventory_site import metrics
from inventory_site.exceptions import DomainError
from inventory_site.transactions import retry_on_deadlock
from stock.events import emit_reservation, emit_reserved
from stock.exceptions import (
    Backordered, InsufficientStock, InvalidInput, LinesRefused, ReservationExpired, ReservationNotActive,
)
from stock.models import MovementReason, Reservation, ReservationLine, ReservationStatus, StockLevel, Warehouse
from stock.selectors import level_available_sql, reservation_status, warehouse_default
from stock.services import allocation
from stock.services.backorders import MAX_BACKORDER_TTL_SECONDS, backorder_try, backorders_allowed
from stock.services.ledger import apply_change, lock_levels, quantity_check

MAX_TTL_SECONDS = 7 * 24 * 3600
T = TypeVar("T")


@dataclass
class ReservationRequestLine:
    """One requested line: `warehouse` None lets the service pick one."""

    sku: Any
    quantity: int
    warehouse: Warehouse | None = None


def _try_reserve(*, sku_id: int, warehouse_id: int, quantity: int, now: datetime) -> bool:
    # The conditional UPDATE written out: built through the ORM (F() expressions) it cost
    # about 1 ms of CPU, several times what PostgreSQL spends running it, on the one path
    # every reservation takes.
    table = StockLevel._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table}"
            " SET reserved = reserved + %s, version = version + 1, updated_at = %s"
            # The one `available` (in bigint: no overflow for any n); reservations never take safety stock.
            f" WHERE sku_id = %s AND warehouse_id = %s AND {level_available_sql(table, vendor=connection.vendor)} >= %s",
            [quantity, connection.ops.adapt_datetimefield_value(now), sku_id, warehouse_id, quantity],
        )
        return cursor.rowcount == 1


def _shortage(line: ReservationRequestLine, available: int) -> dict:
    return {"sku_code": line.sku.sku_code, "available": available, "requested": line.quantity}


class _StalePlan(Exception):
    """A planned chunk found less available than the plan read: plan again."""


PLAN_ATTEMPTS = 3


def _quantity_error(quantity) -> InvalidInput | None:
    try:
        quantity_check(quantity, field="quantity", minimum=1)
    except InvalidInput as exc:
        return exc
    return None


def _validate(lines: list[ReservationRequestLine], ttl_seconds: int) -> None:
    # Up to 90 days when a line may be backordered; a fully allocated reservation is capped at 7.
    longest = MAX_BACKORDER_TTL_SECONDS if any(backorders_allowed(line.sku) for line in lines) else MAX_TTL_SECONDS
    quantity_check(ttl_seconds, field="ttl_seconds", minimum=1, maximum=longest)
    if not lines:
        raise InvalidInput(errors={"lines": ["Give at least one line."]})
    refused = {}
    for index, line in enumerate(lines):
        if getattr(line.sku, "is_deleted", False):
            refused[index] = InvalidInput(errors={"sku_code": ["This SKU is deleted."]})
        elif (error := _quantity_error(line.quantity)) is not None:
            refused[index] = error
        elif line.warehouse is not None and line.warehouse.is_deleted:
            refused[index] = InvalidInput(errors={"warehouse": ["This warehouse is deleted."]})
    if refused:
        raise LinesRefused(refused)


def reservation_create(
    *, reference: str, lines: list[ReservationRequestLine], ttl_seconds: int | None = None, user=None,
    allow_split: bool = False,
) -> Reservation:
    """Hold every line's quantity, or none: `InsufficientStock` names each short line by index.

    A line without a warehouse is placed by `STOCK_ALLOCATION_STRATEGY` (see
    `stock.services.allocation`); with `allow_split`, a line no single warehouse covers is
    split over several, one reservation line per warehouse used. A line of a SKU that
    allows backorders that cannot be placed takes what its warehouse (the named one, else
    the default) has available and backorders the rest against that warehouse's incoming
    stock (`backordered` on the line). `ttl_seconds` beyond 7 days is kept only while some
    line is backordered.
    """
    ttl_seconds = settings.RESERVATION_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    _validate(lines, ttl_seconds)
    default = warehouse_default()
    if default is None and any(line.warehouse is None for line in lines):
        raise InvalidInput(errors={"warehouse": ["There is no default warehouse; name one."]})

    @transaction.atomic
    def place(now: datetime, *, last: bool) -> Reservation:
        # The order row first: a level's row lock, taken by the first UPDATE below, is then
        # held only for the UPDATEs, the lines' INSERT and the COMMIT (a hot SKU serializes
        # every reservation on that lock). A refusal rolls the row back with the rest.
        reservation = Reservation.objects.create(
            reference=reference, expires_at=now + timedelta(seconds=ttl_seconds),
            created_by=user if user is not None and user.is_authenticated else None,
        )
        placing = allocation.plan(lines, allow_split=allow_split)
        # Short lines of SKUs that allow backorders wait on incoming stock at their warehouse.
        waiting_at = {i: (lines[i].warehouse or default).pk for i in placing.short if backorders_allowed(lines[i].sku)}
        refused = {i: available for i, available in placing.short.items() if i not in waiting_at}
        if refused:
            raise LinesRefused({i: InsufficientStock(errors=_shortage(lines[i], available))
                                for i, available in sorted(refused.items())})
        failed: set[int] = set()
        short: dict[int, int] = {}
        waiting: dict[int, int] = {}
        steps = [(c.sku_id, c.warehouse_id, c.index, c) for c in placing.chunks]
        steps += [(lines[i].sku.pk, warehouse_id, i, None) for i, warehouse_id in waiting_at.items()]
        # Every UPDATE in the one lock order, (sku_id, warehouse_id), whatever the strategy.
        for sku_id, warehouse_id, index, chunk in sorted(steps, key=lambda step: step[:3]):
            if chunk is not None:
                if not _try_reserve(sku_id=sku_id, warehouse_id=warehouse_id, quantity=chunk.quantity, now=now):
                    failed.add(index)
                continue
            rest = backorder_try(sku_id=sku_id, warehouse_id=warehouse_id, quantity=lines[index].quantity, now=now)
            if rest is None:  # read under the level's lock: a shortage, not a stale plan
                short[index] = placing.short[index]
            else:
                waiting[index] = rest
        if failed and not last:
            raise _StalePlan
        if failed or short:  # (failed: the plan's figures went stale three times; tell what the levels hold now)
            errors = {i: InsufficientStock(errors=_shortage(lines[i], available)) for i, available in short.items()}
            if failed:
                ranked = [w.pk for w in allocation.candidate_warehouses()]
                errors.update({i: InsufficientStock(errors=_shortage(lines[i], allocation.shortage_available(
                    lines[i], ranked))) for i in failed})
            raise LinesRefused(dict(sorted(errors.items())))
        if not any(waiting.values()) and ttl_seconds > MAX_TTL_SECONDS:
            reservation.expires_at = now + timedelta(seconds=MAX_TTL_SECONDS)
            reservation.save(update_fields=["expires_at"])
        rows = [(c.index, c.warehouse_id, c.quantity, 0) for c in placing.chunks]
        rows += [(i, waiting_at[i], lines[i].quantity, rest) for i, rest in waiting.items()]
        made = ReservationLine.objects.bulk_create([
            ReservationLine(reservation=reservation, sku=lines[index].sku, warehouse_id=warehouse_id,
                            quantity=quantity, backordered=backordered)
            for index, warehouse_id, quantity, backordered in sorted(rows, key=lambda row: row[0])
        ])
        _attach_lines(reservation, made, known=[default, *(line.warehouse for line in lines)])
        emit_reserved(reservation, made)
        return reservation

    def run() -> Reservation:
        now = timezone.now()
        for attempt in range(PLAN_ATTEMPTS):
            try:
                return place(now, last=attempt == PLAN_ATTEMPTS - 1)
            except _StalePlan:
                continue
        raise AssertionError("unreachable: the last attempt raises or returns")

    try:
        reservation = retry_after_expiry(lambda: retry_on_deadlock(run), sku_ids={line.sku.pk for line in lines})
    except (InsufficientStock, LinesRefused) as exc:  # LinesRefused has the code of its first line
        if exc.code == InsufficientStock.code:
            metrics.reservation_refused()
        raise
    metrics.reservation_outcome("created")
    return reservation


def _attach_lines(reservation: Reservation, lines: list[ReservationLine], *, known: list) -> None:
    """Give the new reservation its lines (with their warehouses) so that presenting it costs no query
    unless a line fell back to a warehouse not named in the request."""
    warehouses = {w.pk: w for w in known if w is not None}
    missing = {line.warehouse_id for line in lines} - warehouses.keys()
    if missing:
        warehouses.update(Warehouse.objects.in_bulk(missing))
    for line in lines:
        line.warehouse = warehouses[line.warehouse_id]
    # What prefetch_related stores: a queryset whose results are already known.
    cached = reservation.lines.all()
    cached._result_cache, cached._prefetch_done = lines, True
    reservation._prefetched_objects_cache = {"lines": cached}


def _lock_reservation(reservation: Reservation | int) -> Reservation:
    pk = reservation.pk if isinstance(reservation, Reservation) else reservation
    return Reservation.objects.select_for_update().get(pk=pk)


def _settle(reservation: Reservation, *, status: str, sale: bool, user=None) -> None:
    """Drop the held units of a locked reservation (and on-hand too for a sale) and its
    backordered ones, then set its status."""
    lines = list(reservation.lines.all())
    levels = lock_levels({(line.sku_id, line.warehouse_id) for line in lines})
    for line in sorted(lines, key=lambda ln: (ln.sku_id, ln.warehouse_id, ln.pk)):
        level = levels[(line.sku_id, line.warehouse_id)]
        apply_change(
            level, delta=-line.allocated if sale else 0, reserved_delta=-line.allocated,
            backordered_delta=-line.backordered,
            reason=MovementReason.SALE, reference=reservation.reference, reservation=reservation, user=user,
        )
    reservation.status = status
    reservation.save(update_fields=["status", "updated_at"])
    metrics.reservation_outcome(str(status))
    emit_reservation(reservation, status=status)


def _finish(reservation: Reservation | int, *, status: str, user=None) -> Reservation:
    # Retried: a receipt may lock a reservation that began waiting after the levels (see
    # stock.services.backorders.lock_waiting), the one place the lock order bends.
    return retry_on_deadlock(lambda: _finish_once(reservation, status=status, user=user))


def _finish_once(reservation: Reservation | int, *, status: str, user=None) -> Reservation:
    with transaction.atomic():
        reservation = _lock_reservation(reservation)
        if (status == ReservationStatus.COMMITTED and reservation_status(reservation) == ReservationStatus.ACTIVE
                and reservation.lines.filter(backordered__gt=0).exists()):
            raise Backordered(errors={"lines": {
                str(line.pk): {"sku_code": line.sku.sku_code, "backordered": line.backordered}
                for line in reservation.lines.filter(backordered__gt=0).select_related("sku").order_by("pk")
            }})
        if reservation_status(reservation) == ReservationStatus.ACTIVE:
            _settle(reservation, status=status, sale=status == ReservationStatus.COMMITTED, user=user)
            return reservation
        if reservation.status == ReservationStatus.ACTIVE:  # overdue: record the expiry now
            _settle(reservation, status=ReservationStatus.EXPIRED, sale=False)
    # Raised after the block, so that the recorded expiry is kept.
    details = {"status": reservation.status, "expires_at": reservation.expires_at.isoformat()}
    if status == ReservationStatus.COMMITTED and reservation.status == ReservationStatus.EXPIRED:
        raise ReservationExpired(errors=details)
    raise ReservationNotActive(f"The reservation is {reservation.status}.", errors=details)


def reservation_commit(*, reservation: Reservation | int, user=None) -> Reservation:
    """The goods left: each line becomes a `sale` movement; on-hand and reserved drop together.

    `ReservationNotActive` unless the reservation is active; `ReservationExpired` (after
    recording the expiry) once `expires_at` has passed; `Backordered` while a line still
    waits on incoming stock.
    """
    return _finish(reservation, status=ReservationStatus.COMMITTED, user=user)


def reservation_release(*, reservation: Reservation | int, user=None) -> Reservation:
    """Give the held units back (and drop backordered ones); `ReservationNotActive` unless the reservation is active."""
    return _finish(reservation, status=ReservationStatus.RELEASED, user=user)


def reservations_expire(
    *, sku_ids: Iterable[int] | None = None, now: datetime | None = None, limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Record the expiry of overdue active reservations (all, or those holding these SKUs).

    Each reservation is expired in its own short transaction; returns how many were.
    `progress(total)` is called once with the number found, and with 0 after each one.
    """
    now = now or timezone.now()
    overdue = Reservation.objects.filter(status=ReservationStatus.ACTIVE, expires_at__lte=now)
    if sku_ids is not None:
        overdue = overdue.filter(pk__in=ReservationLine.objects.filter(sku_id__in=list(sku_ids)).values("reservation_id"))
    ids = overdue.order_by("pk").values_list("pk", flat=True)
    if limit is not None:
        ids = ids[:limit]
    ids = list(ids)
    if progress is not None:
        progress(len(ids))
    count = 0
    for pk in ids:
        if progress is not None:
            progress(0)
        count += retry_on_deadlock(lambda: _expire_one(pk, now=now))
    return count


@transaction.atomic
def _expire_one(pk: int, *, now: datetime) -> int:
    reservation = Reservation.objects.select_for_update().filter(
        pk=pk, status=ReservationStatus.ACTIVE, expires_at__lte=now
    ).first()
    if reservation is None:
        return 0
    _settle(reservation, status=ReservationStatus.EXPIRED, sale=False)
    return 1


def retry_after_expiry(run: Callable[[], T], *, sku_ids: Iterable[int]) -> T:
    """Run `run`; if it finds too little stock, record overdue reservations of these SKUs and run it once more.

    The stored `reserved` still counts reservations that are overdue but not yet
    recorded as expired; recording them (in their own transactions) makes those units
    available again, as they already are for every read.
    """
    try:
        return run()
    except DomainError as exc:
        if exc.code != InsufficientStock.code or not reservations_expire(sku_ids=set(sku_ids)):
            raise
    return run()
