"""Reads of the admin dashboard: stock per warehouse, what needs attention, and a SKU's
on-hand and available over time, rebuilt from the ledger and its reservations.

Every sum of a quantity column is cast to bigint first: PostgreSQL's `SUM` of int4 returns
bigint anyway, but `on_hand * price` of int4 columns would not be safe without the cast.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import BigIntegerField, Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from catalog.models import SKU
from stock.models import (
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
    StockMovement,
    StockState,
    Warehouse,
)
from stock.selectors import skus_in_stock, stock_level_list, stock_levels_in_stock, stock_levels_low

SERIES_MOVEMENTS = 500


@dataclass
class WarehouseTotals:
    pk: int
    code: str
    name: str
    levels: int
    units: int
    reserved: int
    value: Decimal


def warehouse_totals() -> list[WarehouseTotals]:
    """Per active warehouse: levels, units on hand, units reserved, and stock value at SKU prices."""
    units = Cast("stock_levels__on_hand", BigIntegerField())
    active = Q(stock_levels__sku__is_deleted=False)
    value = ExpressionWrapper(
        units * F("stock_levels__sku__price"), output_field=DecimalField(max_digits=30, decimal_places=2)
    )
    rows = (
        Warehouse.objects.filter(is_active=True)
        .order_by("code")
        .annotate(
            level_count=Count("stock_levels", filter=active),
            units=Coalesce(Sum(units, filter=active), 0, output_field=BigIntegerField()),
            held=Coalesce(
                Sum(Cast("stock_levels__reserved", BigIntegerField()), filter=active), 0, output_field=BigIntegerField()
            ),
            value=Coalesce(
                Sum(value, filter=active), Decimal("0"), output_field=DecimalField(max_digits=30, decimal_places=2)
            ),
        )
    )
    return [WarehouseTotals(w.pk, w.code, w.name, w.level_count, w.units, w.held, w.value) for w in rows]


def attention_counts() -> dict[str, int]:
    """Levels (of active SKUs) at or below their threshold, levels with nothing available, SKUs
    with nothing available: the rows the admin lists filtered by `low=yes`, `available=none`
    and `stock=out` count."""
    levels = stock_level_list().filter(sku__is_deleted=False)
    return {
        "low_levels": stock_levels_low(levels).count(),
        "empty_levels": stock_levels_in_stock(levels, in_stock=False).count(),
        "out_skus": skus_in_stock(SKU.objects.all(), in_stock=False).count(),
    }


def reservations_expiring(
    reservations: QuerySet[Reservation] | None = None,
    *,
    within: timedelta = timedelta(hours=1),
    limit: int | None = 10,
    now: datetime | None = None,
) -> QuerySet[Reservation]:
    """Active reservations (of `reservations`, default all) whose `expires_at` falls in the next
    `within`, soonest first; the first `limit` (None: all)."""
    now = now or timezone.now()
    rows = (
        (Reservation.objects.all() if reservations is None else reservations)
        .filter(status=ReservationStatus.ACTIVE, expires_at__gt=now, expires_at__lte=now + within)
        .annotate(units=Coalesce(Sum(Cast("lines__quantity", BigIntegerField())), 0, output_field=BigIntegerField()))
        .order_by("expires_at")
    )
    return rows if limit is None else rows[:limit]


def sku_stock_series(*, sku: SKU | int, now: datetime | None = None) -> list[dict[str, Any]]:
    """`[{"at", "on_hand", "available"}]`: the SKU over all warehouses, one point per event.

    On-hand comes from the ledger (`balance_after` of each level's movement); what is reserved
    comes from the reservation lines, each held from its reservation's creation until it was
    committed or released (its last update) or it expired. The last `SERIES_MOVEMENTS` movements.
    """
    now = now or timezone.now()
    movements = list(
        StockMovement.objects.filter(sku=sku)
        .order_by("-created_at", "-id")
        .values("created_at", "warehouse_id", "balance_after", "delta", "state_from", "state_to", "quantity")[
            :SERIES_MOVEMENTS
        ]
    )[::-1]
    if not movements:
        return []
    start = movements[0]["created_at"]
    events: list[tuple[datetime, int, str, int, int]] = []  # at, order, kind, key, amount
    # Units in a state that is not sellable (damaged, quality control), from the state moves;
    # the safety stock is a setting without history: today's is held back all along.
    current = StockLevel.objects.filter(sku=sku).aggregate(
        unsellable=Coalesce(
            Sum(Cast("damaged", BigIntegerField()) + Cast("quality_control", BigIntegerField())),
            0,
            output_field=BigIntegerField(),
        ),
        safety=Coalesce(Sum(Cast("safety_stock", BigIntegerField())), 0, output_field=BigIntegerField()),
    )
    unsellable = current["unsellable"]
    for movement in movements:
        events.append((movement["created_at"], 1, "move", movement["warehouse_id"], movement["balance_after"]))
        change = _unsellable_change(movement)
        if change:
            events.append((movement["created_at"], 1, "state", 0, change))
            unsellable -= change  # back to the figure before the window
    # The balance of each warehouse just before the window opened.
    balances: dict[int, int] = {}
    for movement in movements:
        balances.setdefault(movement["warehouse_id"], movement["balance_after"] - movement["delta"])
    lines = (
        ReservationLine.objects.filter(sku=sku)
        .filter(Q(reservation__status=ReservationStatus.ACTIVE) | Q(reservation__updated_at__gte=start))
        .values(
            "quantity",
            "backordered",
            "reservation__created_at",
            "reservation__updated_at",
            "reservation__status",
            "reservation__expires_at",
        )
    )
    for line in lines:
        begin = line["reservation__created_at"]
        status = line["reservation__status"]
        end = line["reservation__expires_at"] if status == ReservationStatus.ACTIVE else line["reservation__updated_at"]
        allocated = line["quantity"] - line["backordered"]  # backordered units are not on hand
        events.append((begin, 0, "hold", 0, allocated))
        if end <= now:
            events.append((end, 0, "free", 0, allocated))
    events.sort(key=lambda event: (event[0], event[1]))
    held = 0
    points = []
    for at, _order, kind, key, amount in events:
        if kind == "move":
            balances[key] = amount
        elif kind == "state":
            unsellable += amount
        elif kind == "hold":
            held += amount
        else:
            held -= amount
        on_hand = sum(balances.values())
        available = max(0, on_hand - held - unsellable - current["safety"])
        points.append({"at": at.isoformat(), "on_hand": on_hand, "available": available})
    return [point for point in points if point["at"] >= start.isoformat()]


def _unsellable_change(movement: Mapping[str, Any]) -> int:
    """Units a movement put into (+) or took out of (-) the states that are not sellable."""
    unsellable = (StockState.DAMAGED, StockState.QUALITY_CONTROL)
    quantity = movement["quantity"] or 0
    return quantity * ((movement["state_to"] in unsellable) - (movement["state_from"] in unsellable))
