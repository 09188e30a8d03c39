"""Where a reservation line that names no warehouse is placed: `STOCK_ALLOCATION_STRATEGY`.

- `priority`: warehouses by `priority` (lower first, the default warehouse first among
  equals, then by id), the first that has enough available.
- `most_stock`: the warehouse with the most available (ties by the priority order).
- With `allow_split`, a line no single warehouse covers is split over several: fewest
  warehouses first, then the earliest in the strategy's order.

A plan is made from the levels as read (no lock); the reservation then applies its chunks
with conditional UPDATEs in the one lock order, (sku_id, warehouse_id), so a plan that went
stale is refused by the database, never oversold (the caller plans again).
"""
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from stock.models import StockLevel, Warehouse

PRIORITY, MOST_STOCK = "priority", "most_stock"


@dataclass(frozen=True)
class Chunk:
    """`quantity` units of request line `index` taken from one level."""

    index: int
    sku_id: int
    warehouse_id: int
    quantity: int


def candidate_warehouses() -> list[Warehouse]:
    """Warehouses a line without a warehouse may take from, in the priority order: active and
    not deleted, and the default one even when inactive (as it always could)."""
    return list(
        Warehouse.objects.filter(Q(is_active=True) | Q(is_default=True))
        .order_by("priority", "-is_default", "pk")
    )


def level_availability(sku_ids: Iterable[int]) -> dict[tuple[int, int], int]:
    """`{(sku_id, warehouse_id): available}` by the stored figures, for planning."""
    levels = StockLevel.objects.filter(sku_id__in=set(sku_ids)).only(
        "sku_id", "warehouse_id", "on_hand", "reserved", "damaged", "quality_control", "safety_stock",
    )
    return {(level.sku_id, level.warehouse_id): level.available for level in levels}


def strategy_order(ranked: list[int], available: dict[int, int], strategy: str) -> list[int]:
    """Warehouse ids (given in the priority order) in the strategy's order."""
    if strategy == MOST_STOCK:
        position = {pk: i for i, pk in enumerate(ranked)}
        return sorted(ranked, key=lambda pk: (-available.get(pk, 0), position[pk]))
    return list(ranked)


def split(quantity: int, order: list[int], available: dict[int, int]) -> list[tuple[int, int]] | None:
    """`[(warehouse_id, units)]`: the fewest warehouses that together cover `quantity`, the earliest
    such set in `order`, each taking what it has in that order (the last what is left). None
    when all of them together hold too little."""
    amounts = [max(available.get(pk, 0), 0) for pk in order]
    if sum(amounts) < quantity:
        return None
    by_size = sorted(amounts, reverse=True)
    size, covered = 0, 0
    while covered < quantity:
        covered += by_size[size]
        size += 1
    # The lexicographically first `size`-set in `order` that covers: pick each next member as
    # early as possible while the best completion from the rest still covers.
    chosen, start, remaining = [], 0, quantity
    for slots in range(size, 0, -1):
        for i in range(start, len(order) - slots + 1):
            rest = sorted(amounts[i + 1:], reverse=True)[:slots - 1]
            if amounts[i] > 0 and amounts[i] + sum(rest) >= remaining:
                chosen.append(i)
                remaining -= amounts[i]
                start = i + 1
                break
    taken, left = [], quantity
    for i in chosen:
        units = min(amounts[i], left)
        taken.append((order[i], units))
        left -= units
    return taken


@dataclass
class Plan:
    """Chunks placing the lines, the indexes of lines that cannot be placed and, for those, the
    most any warehouse they may take from had left after the earlier lines."""

    chunks: list[Chunk]
    short: dict[int, int]


def plan(lines: list, *, default_id: int | None, allow_split: bool = False, strategy: str | None = None) -> Plan:
    """Place every line (a named warehouse as named; else by the strategy). Earlier lines' chunks
    count against later lines' stock."""
    strategy = strategy or settings.STOCK_ALLOCATION_STRATEGY
    available = level_availability(line.sku.pk for line in lines)
    ranked = [w.pk for w in candidate_warehouses()] if any(line.warehouse is None for line in lines) else []
    if default_id is not None and default_id not in ranked and ranked:
        ranked.insert(0, default_id)
    chunks, short = [], {}
    for index, line in enumerate(lines):
        sku_id = line.sku.pk
        if line.warehouse is not None:
            taken = [(line.warehouse.pk, line.quantity)]
            if available.get((sku_id, line.warehouse.pk), 0) < line.quantity:
                short[index] = max(available.get((sku_id, line.warehouse.pk), 0), 0)
                continue
        else:
            here = {pk: available.get((sku_id, pk), 0) for pk in ranked}
            order = strategy_order(ranked, here, strategy)
            whole = next((pk for pk in order if here[pk] >= line.quantity), None)
            if whole is not None:
                taken = [(whole, line.quantity)]
            else:
                taken = split(line.quantity, order, here) if allow_split else None
            if taken is None:
                short[index] = max([0, *here.values()])
                continue
        for warehouse_id, units in taken:
            available[(sku_id, warehouse_id)] = available.get((sku_id, warehouse_id), 0) - units
            chunks.append(Chunk(index=index, sku_id=sku_id, warehouse_id=warehouse_id, quantity=units))
    return Plan(chunks, short)


def shortage_available(line, ranked: list[int]) -> int:
    """The most any one warehouse the line may take from has available (for the refusal)."""
    levels = StockLevel.objects.filter(sku_id=line.sku.pk)
    levels = levels.filter(warehouse=line.warehouse) if line.warehouse is not None else levels.filter(warehouse_id__in=ranked)
    return max((level.available for level in levels), default=0)
