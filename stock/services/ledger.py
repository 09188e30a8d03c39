"""The primitives every stock write shares: lock levels in the fixed order, move their
counters and write the ledger row in the same transaction.

Levels are locked `FOR UPDATE` in one fixed order, (sku_id, warehouse_id), everywhere,
so concurrent writers never deadlock on them; counters move with `F()` expressions so
the database, not Python, does the arithmetic.
"""
from collections.abc import Iterable

from django.db.models import F, Q
from django.utils import timezone

from stock.events import emit_level_changed
from stock.exceptions import InvalidInput
from stock.models import Reservation, StockLevel, StockMovement

MAX_QUANTITY = 2**31 - 1


def quantity_check(value, *, field: str, minimum: int = 0, maximum: int = MAX_QUANTITY) -> int:
    """`value` if it is a whole number in `minimum..maximum` (the bounds of a quantity column),
    else `InvalidInput` naming `field`. Every quantity, count, delta and threshold a stock
    service takes is checked here, whichever face sent it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(errors={field: ["A whole number is required."]})
    if not minimum <= value <= maximum:
        raise InvalidInput(errors={field: [f"Must be between {minimum} and {maximum}."]})
    return value


def lock_levels(pairs: Iterable[tuple[int, int]], *, create: Iterable[tuple[int, int]] = ()) -> dict[tuple[int, int], StockLevel]:
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
    locked = StockLevel.objects.select_for_update().filter(condition).order_by("sku_id", "warehouse_id")
    return {(lvl.sku_id, lvl.warehouse_id): lvl for lvl in locked}


def apply_change(
    level: StockLevel, *, delta: int = 0, reserved_delta: int = 0, reason: str | None = None,
    reference: str = "", note: str = "", reservation: Reservation | None = None, user=None,
    backordered_delta: int = 0, incoming_delta: int = 0,
) -> StockMovement | None:
    """Move a locked level's counters and write the ledger row for a non-zero `delta` (and its events)."""
    available_before = level.on_hand - level.reserved
    now = timezone.now()
    counters = {}
    if backordered_delta:
        counters["backordered"] = F("backordered") + backordered_delta
    if incoming_delta:
        counters["incoming"] = F("incoming") + incoming_delta
    StockLevel.objects.filter(pk=level.pk).update(
        on_hand=F("on_hand") + delta, reserved=F("reserved") + reserved_delta,
        version=F("version") + 1, updated_at=now, **counters,
    )
    # The row is locked, so the values we hold are the stored ones.
    level.on_hand += delta
    level.reserved += reserved_delta
    level.backordered += backordered_delta
    level.incoming += incoming_delta
    level.version += 1
    level.updated_at = now
    movement = StockMovement.objects.create(
        sku_id=level.sku_id, warehouse_id=level.warehouse_id, delta=delta, reason=reason,
        reference=reference, note=note, reservation=reservation, balance_after=level.on_hand,
        created_by=user if user is not None and user.is_authenticated else None,
    ) if delta else None
    emit_level_changed(level, available_before=available_before, movement=movement, reference=reference,
                       reservation_id=reservation.pk if reservation else None, reason=reason if delta else None)
    return movement
