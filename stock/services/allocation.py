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

from stock.models import StockLevel, Warehouse

PRIORITY, MOST_STOCK = "priority", "most_stock"


@dataclass(frozen=True)
class Chunk:
    """`quantity` units of request line `index` taken from one level."""

    index: int
    sku_id: int
    warehouse_id: int
    quantity: int


def _eligible(warehouse: Warehouse) -> bool:
    """Whether a line without a warehouse may take from it: active and not deleted, or the
    default one even when inactive (as it always could)."""
    return not warehouse.is_deleted and (warehouse.is_active or warehouse.is_default)


def _priority_key(warehouse: Warehouse) -> tuple:
    return warehouse.priority, not warehouse.is_default, warehouse.pk


def candidate_warehouses() -> list[Warehouse]:
    """Every warehouse a line without a warehouse may take from, in the priority order."""
    return sorted((w for w in Warehouse.objects.all() if _eligible(w)), key=_priority_key)


def level_availability(sku_ids: Iterable[int]) -> tuple[dict[tuple[int, int], int], dict[int, list[int]]]:
    """`{(sku_id, warehouse_id): available}` by the stored figures, and per SKU the warehouses it
    may be placed in, in the priority order: one query for planning."""
    levels = StockLevel.objects.filter(sku_id__in=set(sku_ids)).select_related("warehouse").only(
        "sku_id", "warehouse_id", "on_hand", "reserved", "damaged", "quality_control", "safety_stock",
        "warehouse__priority", "warehouse__is_default", "warehouse__is_active", "warehouse__is_deleted",
    )
    available, ranked = {}, {}
    for level in levels:
        available[(level.sku_id, level.warehouse_id)] = level.available
        if _eligible(level.warehouse):
            ranked.setdefault(level.sku_id, []).append(level.warehouse)
    return available, {sku_id: [w.pk for w in sorted(found, key=_priority_key)] for sku_id, found in ranked.items()}


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


def plan(lines: list, *, allow_split: bool = False, strategy: str | None = None) -> Plan:
    """Place every line (a named warehouse as named; else by the strategy). Earlier lines' chunks
    count against later lines' stock."""
    strategy = strategy or settings.STOCK_ALLOCATION_STRATEGY
    available, ranked_by_sku = level_availability(line.sku.pk for line in lines)
    chunks, short = [], {}
    for index, line in enumerate(lines):
        sku_id = line.sku.pk
        if line.warehouse is not None:
            taken = [(line.warehouse.pk, line.quantity)]
            if available.get((sku_id, line.warehouse.pk), 0) < line.quantity:
                short[index] = max(available.get((sku_id, line.warehouse.pk), 0), 0)
                continue
        else:
            ranked = ranked_by_sku.get(sku_id, [])
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
