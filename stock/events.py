"""Events of the stock app, shaped as the API shows levels and reservations.

Built here, written by `events.services` in the caller's transaction while the level or
reservation row is locked (so ids of one aggregate follow commit order).
"""
from django.db.models import Q

from events.services import EventDraft, events_emit_bulk, events_emit_many
from stock.models import StockLevel, StockMovement
from stock.selectors import level_available_sql

LEVEL_CHANGED = "stock.level.changed"
EVENT_TYPES = (LEVEL_CHANGED, "stock.low", "stock.out", "stock.back_in_stock",
               *(f"reservation.{action}" for action in ("created", "committed", "released", "expired", "allocated")))


def _level_data(level: StockLevel, *, sku_code: str, warehouse: str, cause: dict, reason: str | None) -> dict:
    available = level.available
    return {
        "id": level.pk, "sku_id": level.sku_id, "sku_code": sku_code, "warehouse": warehouse,
        "on_hand": level.on_hand, "reserved": level.reserved, "damaged": level.damaged,
        "quality_control": level.quality_control, "safety_stock": level.safety_stock,
        "incoming": level.incoming, "backordered": level.backordered,
        "sellable": level.sellable, "available": available,
        "low_stock_threshold": level.low_stock_threshold, "is_low": available <= level.low_stock_threshold,
        "version": level.version, "cause": cause, "reason": reason,
    }


def crossings(*, available_before: int, available_after: int, threshold: int) -> list[str]:
    """The `stock.low`/`stock.out`/`stock.back_in_stock` types a change of `available` crosses."""
    types = []
    if available_before > threshold >= available_after:
        types.append("stock.low")
    if available_before > 0 >= available_after:
        types.append("stock.out")
    if available_before <= 0 < available_after:
        types.append("stock.back_in_stock")
    return types


# The same rules in SQL, for the reservation statement's outbox step (`reserved_events_sql`):
# `a.before`/`a.after` are `available` before and after, `p.low_stock_threshold` the level's.
# Keep both in step; tests/stock/test_services_reservation_statement.py compares the events
# the statement writes with the ones `emit_reserved` builds.
_LEVEL_TYPES_SQL = (
    f"(VALUES (0, '{LEVEL_CHANGED}', true),"
    " (1, 'stock.low', a.before > p.low_stock_threshold AND p.low_stock_threshold >= a.after),"
    " (2, 'stock.out', a.before > 0 AND 0 >= a.after),"
    " (3, 'stock.back_in_stock', a.before <= 0 AND 0 < a.after)) k(ord, type, applies)"
)
_LEVEL_DATA_SQL = (
    "jsonb_build_object('id', p.level_id, 'sku_id', p.sku_id, 'sku_code', t.sku_code, 'warehouse', t.warehouse,"
    " 'on_hand', p.on_hand, 'reserved', p.reserved, 'damaged', p.damaged, 'quality_control', p.quality_control,"
    " 'safety_stock', p.safety_stock, 'incoming', p.incoming, 'backordered', p.backordered,"
    " 'sellable', p.on_hand::bigint - p.reserved - p.damaged - p.quality_control, 'available', a.after,"
    " 'low_stock_threshold', p.low_stock_threshold, 'is_low', a.after <= p.low_stock_threshold,"
    " 'version', p.version, 'cause', jsonb_build_object('reservation_id', r.id), 'reason', NULL)"
)


def reserved_events_sql() -> str:
    """The events of a reservation placed by the reservation statement, as rows for `outbox_insert`.

    What `emit_reserved` writes, from the statement's own steps: `placed` (one row per level
    moved: level_id, sku_id, warehouse_id, quantity and the level's new figures), `target`
    (the codes), `reservation` and `lines`; parameters `reference`, `status`, `now` and
    `now_text`/`expires_at_text` (the timestamps as the API's JSON writes them). Levels in
    (sku_id, warehouse_id) order, each `stock.level.changed` then its crossings, then
    `reservation.created`: the order of the ids `emit_reserved` draws.
    """
    line_codes = "lines ln JOIN target lt ON lt.sku_id = ln.sku_id AND lt.warehouse_id = ln.warehouse_id"
    reservation_data = (
        "jsonb_build_object('id', r.id, 'reference', %(reference)s::text, 'status', %(status)s::text,"
        " 'expires_at', %(expires_at_text)s::text, 'created_at', %(now_text)s::text, 'updated_at', %(now_text)s::text,"
        # The statement places lines from stock on hand only: nothing of them is backordered.
        " 'backordered', false,"
        " 'lines', (SELECT jsonb_agg(jsonb_build_object('id', ln.id, 'sku_id', ln.sku_id, 'sku_code', lt.sku_code,"
        f" 'warehouse', lt.warehouse, 'quantity', ln.quantity, 'allocated', ln.quantity, 'backordered', 0)"
        f" ORDER BY ln.id) FROM {line_codes}))"
    )
    one_code = f"(SELECT CASE WHEN count(DISTINCT lt.sku_code) = 1 THEN min(lt.sku_code) ELSE '' END FROM {line_codes})"
    return (
        "SELECT ARRAY[0, p.sku_id, p.warehouse_id, k.ord]::bigint[] AS seq, k.type, 'stock_level:' || p.level_id AS aggregate,"
        f" {_LEVEL_DATA_SQL} AS data, t.sku_code, %(reference)s::text AS reference, %(now)s::timestamptz AS created_at"
        " FROM placed p JOIN target t ON t.idx = p.idx CROSS JOIN reservation r"
        f" CROSS JOIN LATERAL (SELECT {level_available_sql('p', vendor='postgresql')} AS after,"
        f" {level_available_sql('p', vendor='postgresql', reserved='p.reserved - p.quantity')} AS before) a"
        f" CROSS JOIN LATERAL {_LEVEL_TYPES_SQL} WHERE k.applies"
        " UNION ALL"
        " SELECT ARRAY[1, 0, 0, 0]::bigint[], 'reservation.created', 'reservation:' || r.id,"
        f" {reservation_data}, {one_code}, %(reference)s::text, %(now)s::timestamptz FROM reservation r"
    )


def level_drafts(level: StockLevel, *, available_before: int, sku_code: str, warehouse: str, cause: dict,
                 reason: str | None, reference: str) -> list[EventDraft]:
    """`stock.level.changed` of a level holding its new values, and any crossing, as drafts to write."""
    data = _level_data(level, sku_code=sku_code, warehouse=warehouse, cause=cause, reason=reason)
    types = [LEVEL_CHANGED, *crossings(available_before=available_before, available_after=data["available"],
                                       threshold=level.low_stock_threshold)]
    return [EventDraft(t, f"stock_level:{level.pk}", data, sku_code, reference) for t in types]


def emit_level_changed(
    level: StockLevel, *, available_before: int, movement: StockMovement | None = None,
    reservation_id: int | None = None, reason: str | None = None, reference: str = "",
) -> None:
    """Emit `stock.level.changed` for a locked level (holding its new values), and any crossing."""
    sku_code, warehouse = StockLevel.objects.filter(pk=level.pk).values_list("sku__sku_code", "warehouse__code").get()
    cause = {"movement_id": movement.pk} if movement is not None else {"reservation_id": reservation_id}
    events_emit_many(events=level_drafts(level, available_before=available_before, sku_code=sku_code,
                                         warehouse=warehouse, cause=cause, reason=reason, reference=reference))


READ_BATCH = 5000


def emit_loaded_levels(*, sku_ids: list[int]) -> int:
    """Events of levels a bulk load created from nothing, each with its one opening movement.

    `stock.level.changed` (and `stock.back_in_stock`, as for any first receipt) per level,
    in (sku, warehouse) order, in one COPY. Returns how many events were written.
    """
    def drafts():
        for start in range(0, len(sku_ids), READ_BATCH):
            chunk = sku_ids[start:start + READ_BATCH]
            movements = {(m["sku_id"], m["warehouse_id"]): m for m in StockMovement.objects.filter(
                sku_id__in=chunk).values("id", "sku_id", "warehouse_id", "reason", "reference")}
            levels = (StockLevel.objects.filter(sku_id__in=chunk).select_related("sku", "warehouse")
                      .order_by("sku_id", "warehouse_id"))
            for level in levels:
                movement = movements[(level.sku_id, level.warehouse_id)]
                yield from level_drafts(
                    level, available_before=0, sku_code=level.sku.sku_code, warehouse=level.warehouse.code,
                    cause={"movement_id": movement["id"]}, reason=movement["reason"], reference=movement["reference"],
                )

    return events_emit_bulk(events=drafts())


def emit_reserved(reservation, lines) -> None:
    """Events of a new reservation: each level it holds stock of, then `reservation.created`.

    The reservation's conditional UPDATEs hold those levels' row locks until commit.
    """
    held: dict[tuple[int, int], int] = {}
    for line in lines:  # allocated units only: backordered ones are not in `reserved`
        held[(line.sku_id, line.warehouse_id)] = held.get((line.sku_id, line.warehouse_id), 0) + line.allocated
    condition = Q()
    for sku_id, warehouse_id in held:
        condition |= Q(sku_id=sku_id, warehouse_id=warehouse_id)
    drafts = []
    for level in StockLevel.objects.filter(condition).select_related("sku", "warehouse").order_by("sku_id", "warehouse_id"):
        before = max(0, level.sellable + held[(level.sku_id, level.warehouse_id)] - level.safety_stock)
        drafts += level_drafts(
            level, available_before=before, sku_code=level.sku.sku_code,
            warehouse=level.warehouse.code, cause={"reservation_id": reservation.pk}, reason=None,
            reference=reservation.reference,
        )
    drafts.append(reservation_draft(reservation, "created"))
    events_emit_many(events=drafts)


def reservation_data(reservation, lines) -> dict:
    """The reservation as `GET /stock/reservations/{id}/` shows it (`lines` with SKU and warehouse loaded)."""
    return {
        "id": reservation.pk, "reference": reservation.reference, "status": reservation.status,
        "expires_at": reservation.expires_at, "backordered": any(line.backordered for line in lines),
        "created_at": reservation.created_at, "updated_at": reservation.updated_at,
        "lines": [{"id": line.pk, "sku_id": line.sku_id, "sku_code": line.sku.sku_code,
                   "warehouse": line.warehouse.code, "quantity": line.quantity, "allocated": line.allocated,
                   "backordered": line.backordered} for line in lines],
    }


def reservation_draft(reservation, action: str) -> EventDraft:
    """`reservation.<action>` of a reservation whose lines are prefetched (with SKU and warehouse), as a draft."""
    lines = sorted(reservation.lines.all(), key=lambda line: line.pk)  # prefetched by reservation_create
    data = reservation_data(reservation, lines)
    codes = sorted({line["sku_code"] for line in data["lines"]})
    return EventDraft(f"reservation.{action}", f"reservation:{reservation.pk}", data,
                      codes[0] if len(codes) == 1 else "", reservation.reference)


def emit_reservation(reservation, *, status: str) -> None:
    """Emit `reservation.<status>` (committed, released, expired, allocated) for a locked reservation."""
    if "lines" not in getattr(reservation, "_prefetched_objects_cache", {}):
        lines = list(reservation.lines.select_related("sku", "warehouse"))
        cached = reservation.lines.all()
        cached._result_cache, cached._prefetch_done = lines, True
        reservation._prefetched_objects_cache = {"lines": cached}
    events_emit_many(events=[reservation_draft(reservation, status)])


def emit_allocated(reservation) -> None:
    """Emit `reservation.allocated` for a locked reservation whose backordered lines got units."""
    emit_reservation(reservation, status="allocated")
