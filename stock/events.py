"""Events of the stock app, shaped as the API shows levels and reservations.

Built here, written by `events.services` in the caller's transaction while the level or
reservation row is locked (so ids of one aggregate follow commit order).
"""

from events.services import EventDraft, events_emit_bulk, events_emit_many
from stock.models import StockLevel, StockMovement

LEVEL_CHANGED = "stock.level.changed"


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
