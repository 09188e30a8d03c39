"""Events of the stock app: written in the caller's transaction, their payloads built by the database.

What a level or reservation event says is defined once, by the SQL functions of migration
stock 0006: `stock_level_events` (`stock.level.changed` and the `stock.low`/`stock.out`/
`stock.back_in_stock` crossings, from `available` before and after) and
`stock_reservation_event` (`reservation.<action>`). The reservation function calls them when
it places a reservation; every other face that changes stock calls them through here, while
it holds the level or reservation row locked (so ids of one aggregate follow commit order).
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from catalog.models import SKU
from events.models import Event
from events.services import events_written
from stock.models import StockLevel, StockMovement, Warehouse

LEVEL_CHANGED = "stock.level.changed"
EVENT_TYPES = (
    LEVEL_CHANGED,
    "stock.low",
    "stock.out",
    "stock.back_in_stock",
    *(f"reservation.{action}" for action in ("created", "committed", "released", "expired", "allocated")),
)
# The figures of a level its events are built from (the columns `stock_level_events` reads).
LEVEL_FIGURES = (
    "id",
    "sku_id",
    "warehouse_id",
    "on_hand",
    "reserved",
    "damaged",
    "quality_control",
    "safety_stock",
    "incoming",
    "backordered",
    "low_stock_threshold",
    "version",
)
_json_time = DjangoJSONEncoder().default  # a datetime as the API's JSON writes it


def level_figures(level: StockLevel) -> dict:
    """A level's figures as they are now (a snapshot: later changes to `level` do not touch it)."""
    return {name: level.pk if name == "id" else getattr(level, name) for name in LEVEL_FIGURES}


@dataclass(frozen=True)
class LevelChange:
    """One change of a level: its figures after and before, and what caused it."""

    after: dict
    before: dict
    cause: dict
    reason: str | None = None
    reference: str = ""


def _level_events_sql() -> str:
    event, sku, warehouse = Event._meta.db_table, SKU._meta.db_table, Warehouse._meta.db_table
    before = ", ".join(
        f"(c.before->>'{name}')::bigint"
        for name in ("on_hand", "reserved", "damaged", "quality_control", "safety_stock")
    )
    # Codes by correlated index lookups: a join with the JSON record set could scan whole tables.
    return (
        f"INSERT INTO {event} (type, aggregate, data, sku_code, reference, created_at)"
        f" SELECT e.type, e.aggregate, e.data, left(k.sku_code, 50), left(c.reference, 255), %(now)s"
        f" FROM json_to_recordset(%(changes)s::json)"
        f" AS c(n integer, after json, before json, cause jsonb, reason text, reference text)"
        f" CROSS JOIN LATERAL json_populate_record(NULL::{StockLevel._meta.db_table}, c.after) l"
        f" CROSS JOIN LATERAL (SELECT (SELECT s.sku_code FROM {sku} s WHERE s.id = l.sku_id) AS sku_code,"
        f" (SELECT w.code FROM {warehouse} w WHERE w.id = l.warehouse_id) AS warehouse) k"
        f" CROSS JOIN LATERAL stock_level_events(l, stock_available({before}), k.sku_code, k.warehouse,"
        f" c.cause, c.reason) e"
        f" ORDER BY c.n, e.ord"
    )


def emit_level_changes(changes: Sequence[LevelChange]) -> None:
    """Write `stock.level.changed` (and its crossings) for each change, in order: one INSERT."""
    if not changes:
        return
    rows = [
        {
            "n": n,
            "after": change.after,
            "before": change.before,
            "cause": change.cause,
            "reason": change.reason,
            "reference": change.reference,
        }
        for n, change in enumerate(changes)
    ]
    with connection.cursor() as cursor:
        cursor.execute(_level_events_sql(), {"changes": json.dumps(rows), "now": timezone.now()})
    events_written()


def emit_level_changed(
    level: StockLevel,
    *,
    before: dict,
    movement: StockMovement | None = None,
    reservation_id: int | None = None,
    reason: str | None = None,
    reference: str = "",
) -> None:
    """Emit `stock.level.changed` for a locked level (holding its new figures; `before`: its
    `level_figures` before the change), and any crossing."""
    cause = {"movement_id": movement.pk} if movement is not None else {"reservation_id": reservation_id}
    emit_level_changes(
        [LevelChange(after=level_figures(level), before=before, cause=cause, reason=reason, reference=reference)]
    )


READ_BATCH = 5000


def emit_loaded_levels(*, sku_ids: list[int]) -> int:
    """Events of levels a bulk load created from nothing, each with its one opening movement.

    `stock.level.changed` (and `stock.back_in_stock`, as for any first receipt) per level,
    in (sku, warehouse) order, one INSERT per READ_BATCH SKUs. Returns how many were written.
    """
    level, sku, warehouse = StockLevel._meta.db_table, SKU._meta.db_table, Warehouse._meta.db_table
    sql = (
        f"INSERT INTO {Event._meta.db_table} (type, aggregate, data, sku_code, reference, created_at)"
        f" SELECT e.type, e.aggregate, e.data, left(s.sku_code, 50), left(m.reference, 255), %(now)s"
        f" FROM {level} l JOIN {sku} s ON s.id = l.sku_id JOIN {warehouse} w ON w.id = l.warehouse_id"
        f" JOIN {StockMovement._meta.db_table} m ON m.sku_id = l.sku_id AND m.warehouse_id = l.warehouse_id"
        f" CROSS JOIN LATERAL stock_level_events(l, 0, s.sku_code, w.code, jsonb_build_object('movement_id', m.id),"
        f" m.reason) e"
        f" WHERE l.sku_id = ANY(%(skus)s) ORDER BY l.sku_id, l.warehouse_id, e.ord"
    )
    written = 0
    now = timezone.now()
    with connection.cursor() as cursor:
        for start in range(0, len(sku_ids), READ_BATCH):
            cursor.execute(sql, {"skus": list(sku_ids[start : start + READ_BATCH]), "now": now})
            written += cursor.rowcount
    if written:
        events_written()
    return written


def emit_reservation_events(events: Iterable[tuple]) -> None:
    """Write `reservation.<action>` for each `(reservation, action)`, in order, the reservation's
    lines as stored now: one INSERT."""
    rows = [
        {
            "n": n,
            "id": reservation.pk,
            "action": str(action),
            "status": str(reservation.status),
            "reference": reservation.reference,
            "expires_at": _json_time(reservation.expires_at),
            "created_at": _json_time(reservation.created_at),
            "updated_at": _json_time(reservation.updated_at),
        }
        for n, (reservation, action) in enumerate(events)
    ]
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Event._meta.db_table} (type, aggregate, data, sku_code, reference, created_at)"
            " SELECT 'reservation.' || c.action, 'reservation:' || c.id, e.data, left(e.sku_code, 50),"
            " left(c.reference, 255), %(now)s"
            " FROM json_to_recordset(%(rows)s::json) AS c(n integer, id bigint, action text, status text,"
            " reference text, expires_at text, created_at text, updated_at text)"
            " CROSS JOIN LATERAL stock_reservation_event(c.id, c.status, c.expires_at, c.created_at, c.updated_at) e"
            " ORDER BY c.n",
            {"rows": json.dumps(rows), "now": timezone.now()},
        )
    events_written()


def emit_reservation(reservation, *, status: str) -> None:
    """Emit `reservation.<status>` (committed, released, expired, allocated) for a locked reservation."""
    emit_reservation_events([(reservation, status)])
