"""Reservations: hold stock for an order, then commit (sold), release, or let it expire.

A reservation is placed by one database function, `stock_reservation_place` (migration
stock 0006): one round trip that plans every line, moves each level once with the
conditional `UPDATE ... WHERE available >= n` in the fixed (sku_id, warehouse_id) lock order,
and writes the reservation, its lines and their events; it never oversells, whatever the
number of concurrent clients or processes. See docs/architecture/reservations.md.
"""

import json
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from catalog.models import SKU
from catalog.rules import sku_code_key
from events.services import events_written
from inventory_site import metrics
from inventory_site.exceptions import DomainError
from inventory_site.transactions import retry_on_deadlock
from inventory_site.types import Actor
from stock.events import emit_reservation
from stock.exceptions import (
    Backordered,
    InsufficientStock,
    InvalidInput,
    LinesRefused,
    ReservationExpired,
    ReservationNotActive,
)
from stock.models import MovementReason, Reservation, ReservationLine, ReservationStatus, Warehouse
from stock.selectors import reservation_status
from stock.services.backorders import MAX_BACKORDER_TTL_SECONDS
from stock.services.ledger import apply_change, lock_levels, quantity_check

MAX_TTL_SECONDS = 7 * 24 * 3600
T = TypeVar("T")
_json_time = DjangoJSONEncoder().default  # a datetime as the API's JSON (and the events' payloads) write it


@dataclass(frozen=True)
class ReservationRequestLine:
    """One requested line as loaded objects: `warehouse` None lets the strategy pick one."""

    sku: Any
    quantity: int
    warehouse: Warehouse | None = None


@dataclass(frozen=True)
class CodedLine:
    """One requested line as the client named it: a SKU code (or id) and a warehouse code, not rows."""

    sku_code: str | None
    quantity: int
    warehouse_code: str | None = None
    sku_id: int | None = None


PLACE_ATTEMPTS = 2  # the second places under the levels' locks: it cannot find its plan stale
SERIALIZATION_FAILURE = "40001"


def _line_json(index: int, line: ReservationRequestLine | CodedLine) -> dict:
    if isinstance(line, CodedLine):
        key = None if line.sku_code is None else (sku_code_key(line.sku_code) or "")
        return {
            "idx": index,
            "sku_code": line.sku_code,
            "sku_key": key,
            "sku_id": line.sku_id,
            "warehouse": line.warehouse_code,
            "quantity": line.quantity,
        }
    return {
        "idx": index,
        "sku_code": None,
        "sku_id": line.sku.pk,
        "warehouse": line.warehouse.code if line.warehouse is not None else None,
        "quantity": line.quantity,
    }


def _validate(lines: Sequence[ReservationRequestLine | CodedLine], ttl_seconds: int) -> None:
    """The bounds of the numbers sent; codes, warehouses and stock are the database's to judge."""
    quantity_check(ttl_seconds, field="ttl_seconds", minimum=1, maximum=MAX_BACKORDER_TTL_SECONDS)
    if not lines:
        raise InvalidInput(errors={"lines": ["Give at least one line."]})
    refused = {}
    for index, line in enumerate(lines):
        try:
            quantity_check(line.quantity, field="quantity", minimum=1)
        except InvalidInput as exc:
            refused[index] = exc
    if refused:
        raise LinesRefused(refused)


@dataclass
class _Placing:
    """One call of `stock_reservation_place`: what it needs, and what it answered."""

    reference: str
    lines: str
    ttl_seconds: int
    allow_split: bool
    user_id: int | None

    def call(self, *, lock_first: bool) -> tuple[datetime, list[tuple]]:
        now = timezone.now()
        expires_at = now + timedelta(seconds=self.ttl_seconds)
        allocated_expires_at = now + timedelta(seconds=min(self.ttl_seconds, MAX_TTL_SECONDS))
        # Alone, the call is its own transaction (the levels' row locks are taken and released
        # within one round trip); inside a caller's, a savepoint, so a stale plan leaves it usable.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            with connection.cursor() as cursor:
                cursor.execute(
                    reservation_sql(),
                    {
                        "lines": self.lines,
                        "strategy": settings.STOCK_ALLOCATION_STRATEGY,
                        "allow_split": self.allow_split,
                        "lock_first": lock_first,
                        "reference": self.reference,
                        "user_id": self.user_id,
                        "now": now,
                        "ttl_seconds": self.ttl_seconds,
                        "allocated_ttl_seconds": MAX_TTL_SECONDS,
                        "now_text": _json_time(now),
                        "expires_at_text": _json_time(expires_at),
                        "allocated_expires_at_text": _json_time(allocated_expires_at),
                    },
                )
                return now, cursor.fetchall()


def reservation_sql() -> str:
    """The one statement that places a reservation (its parameters are those `_Placing.call` binds)."""
    return (
        "SELECT * FROM stock_reservation_place(%(lines)s::json, %(strategy)s, %(allow_split)s, %(lock_first)s,"
        " %(reference)s, %(user_id)s, %(now)s, %(ttl_seconds)s, %(allocated_ttl_seconds)s, %(now_text)s,"
        " %(expires_at_text)s, %(allocated_expires_at_text)s)"
    )


def reservation_create(
    *,
    reference: str,
    lines: Sequence[ReservationRequestLine | CodedLine],
    ttl_seconds: int | None = None,
    user: Actor = None,
    allow_split: bool = False,
) -> Reservation:
    """Hold every line's quantity, or none: the one way a reservation is placed, whatever its shape.

    The database function `stock_reservation_place` (migration stock 0006) resolves the codes,
    places each line (a named warehouse as named; else by `STOCK_ALLOCATION_STRATEGY`; with
    `allow_split`, over several warehouses; a SKU that allows backorders waits for what is
    short on its warehouse's incoming stock), moves each level once in the one lock order with
    the conditional `available >= n` UPDATE, and writes the reservation, its lines and their
    events. Refusals name each line: `LinesRefused` of `InvalidInput` (unknown or deleted codes)
    or of `InsufficientStock` (`{"sku_code", "available", "requested"}`). `ttl_seconds` beyond
    7 days is kept only while some line is backordered.
    """
    ttl_seconds = settings.RESERVATION_TTL_SECONDS if ttl_seconds is None else ttl_seconds
    _validate(lines, ttl_seconds)
    placing = _Placing(
        reference=reference,
        lines=json.dumps([_line_json(i, line) for i, line in enumerate(lines)]),
        ttl_seconds=ttl_seconds,
        allow_split=allow_split,
        user_id=user.pk if user is not None and user.is_authenticated else None,
    )

    def place() -> Reservation:
        for attempt in range(PLACE_ATTEMPTS):
            try:
                now, rows = placing.call(lock_first=attempt > 0)
            except OperationalError as exc:
                if getattr(exc.__cause__, "sqlstate", None) != SERIALIZATION_FAILURE or attempt == PLACE_ATTEMPTS - 1:
                    raise
                continue
            return _placed(rows, reference=reference, user_id=placing.user_id, now=now)
        raise AssertionError("unreachable: the last attempt raises or returns")

    try:
        reservation = retry_after_expiry(lambda: retry_on_deadlock(place))
    except (InsufficientStock, LinesRefused) as exc:  # LinesRefused has the code of its first line
        if exc.code == InsufficientStock.code:
            metrics.reservation_refused()
        raise
    events_written()
    metrics.reservation_outcome("created")
    return reservation


def _refusal(rows: list[tuple]) -> DomainError:
    """The refusal `stock_reservation_place` answered, as the domain error the API shows."""
    kind = rows[0][0]
    if kind == "ttl_too_long":
        return InvalidInput(errors={"ttl_seconds": [f"Must be between 1 and {MAX_TTL_SECONDS}."]})
    if kind == "no_default":
        return InvalidInput(errors={"warehouse": ["There is no default warehouse; name one."]})
    errors: dict[int, DomainError] = {}
    for kind, index, _r, _l, _sku_id, sku_code, _w, _wc, quantity, _b, detail, _e in rows:
        detail = json.loads(detail)  # (Django reads jsonb as text)
        if kind == "invalid":
            fields = {field: [message] for field, message in detail}
            errors[index] = InvalidInput(f"Invalid input: {detail[0][1]}", errors=fields)
        else:
            errors[index] = InsufficientStock(
                errors={"sku_code": sku_code, "available": detail["available"], "requested": quantity}
            )
    return LinesRefused(dict(sorted(errors.items())), sku_ids=frozenset(row[4] for row in rows if row[0] == "short"))


def _placed(rows: list[tuple], *, reference: str, user_id: int | None, now: datetime) -> Reservation:
    """The reservation the database placed, with its lines, from the function's own rows (or its refusal)."""
    if rows[0][0] != "placed":
        raise _refusal(rows)
    reservation = Reservation(
        pk=rows[0][2],
        reference=reference,
        status=ReservationStatus.ACTIVE,
        expires_at=rows[0][11],
        created_by_id=user_id,
        created_at=now,
        updated_at=now,
    )
    made = [
        ReservationLine(
            pk=line_id,
            reservation=reservation,
            sku=SKU(pk=sku_id, sku_code=sku_code),
            warehouse=Warehouse(pk=warehouse_id, code=warehouse_code),
            quantity=quantity,
            backordered=backordered,
        )
        for _k, _i, _r, line_id, sku_id, sku_code, warehouse_id, warehouse_code, quantity, backordered, _d, _e in rows
    ]
    # What prefetch_related stores: a queryset whose results are already known.
    cached = reservation.lines.all()
    # (Django's private prefetch cache, which the stubs do not declare.)
    cached._result_cache, cached._prefetch_done = made, True  # type: ignore[attr-defined]
    reservation._prefetched_objects_cache = {"lines": cached}  # type: ignore[attr-defined]
    return reservation


def _lock_reservation(reservation: Reservation | int) -> Reservation:
    pk = reservation.pk if isinstance(reservation, Reservation) else reservation
    return Reservation.objects.select_for_update().get(pk=pk)


def _settle(reservation: Reservation, *, status: str, sale: bool, user: Actor = None) -> None:
    """Drop the held units of a locked reservation (and on-hand too for a sale) and its
    backordered ones, then set its status."""
    lines = list(reservation.lines.all())
    levels = lock_levels({(line.sku_id, line.warehouse_id) for line in lines})
    for line in sorted(lines, key=lambda ln: (ln.sku_id, ln.warehouse_id, ln.pk)):
        level = levels[(line.sku_id, line.warehouse_id)]
        apply_change(
            level,
            delta=-line.allocated if sale else 0,
            reserved_delta=-line.allocated,
            backordered_delta=-line.backordered,
            reason=MovementReason.SALE,
            reference=reservation.reference,
            reservation=reservation,
            user=user,
        )
    reservation.status = status
    reservation.save(update_fields=["status", "updated_at"])
    metrics.reservation_outcome(str(status))
    emit_reservation(reservation, status=status)


def _finish(reservation: Reservation | int, *, status: str, user: Actor = None) -> Reservation:
    # Retried: a receipt may lock a reservation that began waiting after the levels (see
    # stock.services.backorders.lock_waiting), the one place the lock order bends.
    return retry_on_deadlock(lambda: _finish_once(reservation, status=status, user=user))


def _finish_once(reservation: Reservation | int, *, status: str, user: Actor = None) -> Reservation:
    with transaction.atomic():
        reservation = _lock_reservation(reservation)
        if (
            status == ReservationStatus.COMMITTED
            and reservation_status(reservation) == ReservationStatus.ACTIVE
            and reservation.lines.filter(backordered__gt=0).exists()
        ):
            raise Backordered(
                errors={
                    "lines": {
                        str(line.pk): {"sku_code": line.sku.sku_code, "backordered": line.backordered}
                        for line in reservation.lines.filter(backordered__gt=0).select_related("sku").order_by("pk")
                    }
                }
            )
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


def reservation_commit(*, reservation: Reservation | int, user: Actor = None) -> Reservation:
    """The goods left: each line becomes a `sale` movement; on-hand and reserved drop together.

    `ReservationNotActive` unless the reservation is active; `ReservationExpired` (after
    recording the expiry) once `expires_at` has passed; `Backordered` while a line still
    waits on incoming stock.
    """
    return _finish(reservation, status=ReservationStatus.COMMITTED, user=user)


def reservation_release(*, reservation: Reservation | int, user: Actor = None) -> Reservation:
    """Give the held units back (and drop backordered ones); `ReservationNotActive` unless the reservation is active."""
    return _finish(reservation, status=ReservationStatus.RELEASED, user=user)


def reservations_expire(
    *,
    sku_ids: Iterable[int] | None = None,
    now: datetime | None = None,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Record the expiry of overdue active reservations (all, or those holding these SKUs).

    Each reservation is expired in its own short transaction; returns how many were.
    `progress(total)` is called once with the number found, and with 0 after each one.
    """
    now = now or timezone.now()
    overdue = Reservation.objects.filter(status=ReservationStatus.ACTIVE, expires_at__lte=now)
    if sku_ids is not None:
        overdue = overdue.filter(
            pk__in=ReservationLine.objects.filter(sku_id__in=list(sku_ids)).values("reservation_id")
        )
    query = overdue.order_by("pk").values_list("pk", flat=True)
    if limit is not None:
        query = query[:limit]
    ids = list(query)
    if progress is not None:
        progress(len(ids))
    count = 0
    for pk in ids:
        if progress is not None:
            progress(0)
        count += retry_on_deadlock(partial(_expire_one, pk, now=now))
    return count


@transaction.atomic
def _expire_one(pk: int, *, now: datetime) -> int:
    reservation = (
        Reservation.objects.select_for_update()
        .filter(pk=pk, status=ReservationStatus.ACTIVE, expires_at__lte=now)
        .first()
    )
    if reservation is None:
        return 0
    _settle(reservation, status=ReservationStatus.EXPIRED, sale=False)
    return 1


def retry_after_expiry(run: Callable[[], T], *, sku_ids: Iterable[int] = ()) -> T:
    """Run `run`; if it finds too little stock, record overdue reservations of these SKUs (and of
    those the refusal names) and run it once more.

    The stored `reserved` still counts reservations that are overdue but not yet
    recorded as expired; recording them (in their own transactions) makes those units
    available again, as they already are for every read.
    """
    try:
        return run()
    except DomainError as exc:
        short = set(sku_ids) | (exc.sku_ids if isinstance(exc, LinesRefused) else set())
        if exc.code != InsufficientStock.code or not reservations_expire(sku_ids=short):
            raise
    return run()
