"""Events of the stock app, shaped as the API shows levels and reservations.

Built here, written by `events.services` in the caller's transaction while the level or
reservation row is locked (so ids of one aggregate follow commit order).
"""
from django.db.models import Q

from events.services import EventDraft, events_emit_many
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


def _level_drafts(level: StockLevel, *, available_before: int, sku_code: str, warehouse: str, cause: dict,
                  reason: str | None, reference: str) -> list[EventDraft]:
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
    events_emit_many(events=_level_drafts(level, available_before=available_before, sku_code=sku_code,
                                          warehouse=warehouse, cause=cause, reason=reason, reference=reference))


def emit_reserved(reservation, lines) -> None:
    """Events of a new reservation: each level it holds stock of, then `reservation.created`.

    The reservation's conditional UPDATEs hold those levels' row locks until commit.
    """
    held: dict[tuple[int, int], int] = {}
    for line in lines:
        held[(line.sku_id, line.warehouse_id)] = held.get((line.sku_id, line.warehouse_id), 0) + line.quantity
    condition = Q()
    for sku_id, warehouse_id in held:
        condition |= Q(sku_id=sku_id, warehouse_id=warehouse_id)
    drafts = []
    for level in StockLevel.objects.filter(condition).select_related("sku", "warehouse").order_by("sku_id", "warehouse_id"):
        before = max(0, level.sellable + held[(level.sku_id, level.warehouse_id)] - level.safety_stock)
        drafts += _level_drafts(
            level, available_before=before, sku_code=level.sku.sku_code,
            warehouse=level.warehouse.code, cause={"reservation_id": reservation.pk}, reason=None,
            reference=reservation.reference,
        )
    drafts.append(_reservation_draft(reservation, "created"))
    events_emit_many(events=drafts)


def reservation_data(reservation, lines) -> dict:
    """The reservation as `GET /stock/reservations/{id}/` shows it (`lines` with SKU and warehouse loaded)."""
    return {
        "id": reservation.pk, "reference": reservation.reference, "status": reservation.status,
        "expires_at": reservation.expires_at, "created_at": reservation.created_at,
        "updated_at": reservation.updated_at,
        "lines": [{"id": line.pk, "sku_id": line.sku_id, "sku_code": line.sku.sku_code,
                   "warehouse": line.warehouse.code, "quantity": line.quantity} for line in lines],
    }


def _reservation_draft(reservation, action: str) -> EventDraft:
    lines = sorted(reservation.lines.all(), key=lambda line: line.pk)  # prefetched by reservation_create
    data = reservation_data(reservation, lines)
    codes = sorted({line["sku_code"] for line in data["lines"]})
    return EventDraft(f"reservation.{action}", f"reservation:{reservation.pk}", data,
                      codes[0] if len(codes) == 1 else "", reservation.reference)


def emit_reservation(reservation, *, status: str) -> None:
    """Emit `reservation.<status>` (committed, released, expired) for a locked reservation."""
    if "lines" not in getattr(reservation, "_prefetched_objects_cache", {}):
        lines = list(reservation.lines.select_related("sku", "warehouse"))
        cached = reservation.lines.all()
        cached._result_cache, cached._prefetch_done = lines, True
        reservation._prefetched_objects_cache = {"lines": cached}
    events_emit_many(events=[_reservation_draft(reservation, status)])
