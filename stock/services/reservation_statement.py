"""A reservation placed by one PostgreSQL statement: the hot path of `POST /stock/reservations/`.

One data-modifying CTE resolves the SKU and warehouse codes, locks the levels in the
fixed (sku_id, warehouse_id) order, moves `reserved` with the conditional
`UPDATE ... WHERE available >= n` (the one `available` of `stock.selectors.available_sql`,
in bigint: never overflows; safety stock is never reserved), inserts the
reservation and its lines, and writes the events of the new reservation to the outbox
(`stock.level.changed` per level with its crossings, then `reservation.created`: the rows
`stock.events.emit_reserved` writes on the general path), from the figures the `placed`
step returns. Outside a caller's transaction the statement commits by itself, so the
hot level's row lock is taken and released within one round trip. The events' `position`
is not set here: the sequencer numbers them once committed, as every event.

All or nothing: unless every line was placed, the statement's last step fails on
purpose (a cast of `INCOMPLETE` to integer, sqlstate 22P02), which rolls back whatever
it had moved. `reservation_place` then returns None and the caller takes the general
path (`reservation_create`), which explains the refusal (unknown or deleted codes,
shortages by line), falls back to other warehouses and records overdue reservations.

`reservation_place(..., extra_steps=...)` appends more CTE steps to the statement.
"""
import json
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DataError, connection, transaction
from django.utils import timezone

from catalog.models import SKU
from catalog.rules import sku_code_key
from events.services import events_written, outbox_insert
from inventory_site import metrics
from stock.events import reserved_events_sql
from stock.models import Reservation, ReservationLine, ReservationStatus, StockLevel, Warehouse
from stock.selectors import level_available_sql

INCOMPLETE = "INCOMPLETE"
INVALID_TEXT_REPRESENTATION = "22P02"
_json_time = DjangoJSONEncoder().default  # a datetime as the API's JSON (and the events' payloads) write it


@dataclass(frozen=True)
class CodedLine:
    """One requested line as the client named it: codes, not rows."""

    sku_code: str
    quantity: int
    warehouse_code: str | None = None


def _statement(extra_steps: Sequence[str], *, single_line: bool = False) -> str:
    sku, warehouse = SKU._meta.db_table, Warehouse._meta.db_table
    level, reservation, line = StockLevel._meta.db_table, Reservation._meta.db_table, ReservationLine._meta.db_table
    steps = [
        # The lines as sent, numbered: one JSON parameter. (Not unnest() of arrays: PostgreSQL
        # counts an array parameter's elements when it plans for its values, not in a generic
        # plan, so the statement was planned anew every time; a JSON record set is estimated
        # alike both ways, and a prepared statement keeps its generic plan: -55% database CPU.)
        "request AS (SELECT * FROM json_to_recordset(%(lines)s::json)"
        " AS r(idx int, sku_code text, warehouse_code text, quantity bigint))",
        # Codes to ids: SKU codes in any case (the unique index on lower(sku_code)), warehouse
        # codes upper case, deleted rows do not count. Per line, one warehouse: the one named, or
        # with none named the first by the `priority` strategy (lower priority, the default among
        # equals, then id) of those a line may take from; if it has too little, the general path
        # tries the others. A LATERAL subquery, not a CASE over an uncorrelated one: PostgreSQL
        # plans it in less time (the statement's planning is most of what it costs).
        f"target AS (SELECT r.idx, r.quantity, s.id AS sku_id, s.sku_code, w.id AS warehouse_id, w.code AS warehouse"
        f" FROM request r JOIN {sku} s ON lower(s.sku_code) = lower(r.sku_code) AND NOT s.is_deleted"
        f" JOIN LATERAL (SELECT f.id, f.code FROM {warehouse} f WHERE NOT f.is_deleted AND (CASE WHEN"
        f" r.warehouse_code IS NULL THEN f.is_active OR f.is_default ELSE f.code = upper(r.warehouse_code) END)"
        f" ORDER BY f.priority, f.is_default DESC, f.id LIMIT 1) w ON true)",
        *_placed_steps(level, single_line=single_line),
        f"reservation AS (INSERT INTO {reservation} (created_at, updated_at, reference, status, expires_at, created_by_id)"
        f" SELECT %(now)s, %(now)s, %(reference)s, %(status)s, %(expires_at)s, %(user_id)s"
        f" WHERE (SELECT count(*) FROM placed) = %(n)s RETURNING id)",
        # Every line placed from stock on hand: none of it waits on incoming stock (backordered 0).
        f"lines AS (INSERT INTO {line} (reservation_id, sku_id, warehouse_id, quantity, backordered)"
        f" SELECT reservation.id, p.sku_id, p.warehouse_id, p.quantity, 0 FROM reservation, placed p ORDER BY p.idx"
        f" RETURNING id, sku_id, warehouse_id, quantity)",
        *extra_steps,
    ]
    # One row always (an aggregate), so the all-or-nothing check always runs; the cast is
    # not a constant, so PostgreSQL cannot fold it into a planning-time error.
    check = (
        f"(SELECT CASE WHEN count(*) = %(n)s THEN 0 ELSE ('{INCOMPLETE} ' || count(*))::int END AS ok FROM placed) c"
    )
    return (
        "WITH " + ",\n".join(steps)
        + "\nSELECT c.ok, reservation.id, t.idx, lines.id, t.sku_id, t.sku_code, t.warehouse_id, t.warehouse, t.quantity"
        + f"\nFROM {check} LEFT JOIN reservation ON true LEFT JOIN lines ON true"
        + " LEFT JOIN target t ON t.sku_id = lines.sku_id AND t.warehouse_id = lines.warehouse_id ORDER BY t.idx"
    )


def _placed_steps(level: str, *, single_line: bool) -> list[str]:
    """The step that moves `reserved` (`placed`), after the one that locks the levels in order.

    Several lines lock their levels first, in the one order used for levels everywhere (no
    deadlock with other writers); the UPDATE then finds them locked. One line takes one lock,
    which cannot be out of order: its UPDATE takes it, and the hot level's lock is held for
    one step less (a locking SELECT, its sort and a second visit of the row).
    """
    available = level_available_sql("l", vendor="postgresql")
    returning = (
        " RETURNING k.idx, l.id AS level_id, l.sku_id, l.warehouse_id, k.quantity, l.on_hand, l.reserved, l.version,"
        " l.low_stock_threshold, l.damaged, l.quality_control, l.safety_stock, l.incoming, l.backordered"
    )
    move = f"UPDATE {level} l SET reserved = l.reserved + k.quantity, version = l.version + 1, updated_at = %(now)s"
    if single_line:
        return [f"placed AS ({move} FROM target k WHERE l.sku_id = k.sku_id AND l.warehouse_id = k.warehouse_id"
                f" AND {available} >= k.quantity{returning})"]
    return [
        f"locked AS (SELECT l.id, t.idx, t.quantity FROM {level} l JOIN target t"
        f" ON l.sku_id = t.sku_id AND l.warehouse_id = t.warehouse_id ORDER BY l.sku_id, l.warehouse_id FOR UPDATE OF l)",
        f"placed AS ({move} FROM locked k WHERE l.id = k.id AND {available} >= k.quantity{returning})",
    ]


def reservation_sql(extra_steps: Sequence[str] = (), *, single_line: bool = False) -> str:
    """The statement `reservation_place` sends: the reservation, its lines and its events (the
    `outbox` step), then `extra_steps`; `single_line` for a reservation of one line. Its
    parameters are those `reservation_place` binds."""
    return _statement([f"outbox AS ({outbox_insert(reserved_events_sql())})", *extra_steps], single_line=single_line)


def reservation_place(
    *, reference: str, lines: Sequence[CodedLine], ttl_seconds: int, user=None, extra_steps: Sequence[str] = (),
) -> Reservation | None:
    """Hold every line in one statement; the new reservation with its lines, or None when not
    every line could be placed as named (nothing is then written: take the general path).

    PostgreSQL only (None elsewhere). Inside a caller's transaction (an idempotent request)
    the statement runs in a savepoint, so a refusal leaves that transaction usable.
    """
    if connection.vendor != "postgresql" or not lines:
        return None
    if settings.STOCK_ALLOCATION_STRATEGY != "priority" and any(line.warehouse_code is None for line in lines):
        return None  # placing by most stock reads every warehouse first: the general path does
    now = timezone.now()
    expires_at = now + timedelta(seconds=ttl_seconds)
    user_id = user.pk if user is not None and user.is_authenticated else None
    params = {
        "lines": json.dumps([
            {"idx": idx, "sku_code": sku_code_key(line.sku_code), "warehouse_code": line.warehouse_code,
             "quantity": line.quantity}
            for idx, line in enumerate(lines)
        ]),
        "now": now, "expires_at": expires_at, "reference": reference, "status": ReservationStatus.ACTIVE,
        "user_id": user_id, "n": len(lines), "now_text": _json_time(now), "expires_at_text": _json_time(expires_at),
    }
    sql = reservation_sql(extra_steps, single_line=len(lines) == 1)
    # Alone, the statement is its own transaction (no BEGIN/COMMIT round trips while the row
    # locks are held); inside a caller's, a savepoint, so that a refusal leaves it usable.
    try:
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                rows = cursor.fetchall()
    except DataError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == INVALID_TEXT_REPRESENTATION and INCOMPLETE in str(exc):
            return None
        raise
    events_written()
    metrics.reservation_outcome("created")
    return _placed(rows, reference=reference, expires_at=expires_at, user_id=user_id, now=now)


def _placed(rows: list[tuple], *, reference: str, expires_at, user_id: int | None, now) -> Reservation:
    """The reservation the statement wrote, with its lines, from the statement's own rows."""
    reservation = Reservation(
        pk=rows[0][1], reference=reference, status=ReservationStatus.ACTIVE, expires_at=expires_at,
        created_by_id=user_id, created_at=now, updated_at=now,
    )
    made = [
        ReservationLine(
            pk=line_id, reservation=reservation, sku=SKU(pk=sku_id, sku_code=sku_code),
            warehouse=Warehouse(pk=warehouse_id, code=warehouse_code), quantity=quantity,
        )
        for _ok, _res, _idx, line_id, sku_id, sku_code, warehouse_id, warehouse_code, quantity in rows
    ]
    # What prefetch_related stores: a queryset whose results are already known.
    cached = reservation.lines.all()
    cached._result_cache, cached._prefetch_done = made, True
    reservation._prefetched_objects_cache = {"lines": cached}
    return reservation
