"""Per-warehouse stock of the SKUs and products on one admin page, one query each.

Every level's "low" is the `effective_is_low` of `stock.selectors.stock_level_list`: the one
rule (available at or below the level's threshold, overdue reservations not counted).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from stock.selectors import stock_level_list


@dataclass
class WarehouseStock:
    """One warehouse's figures for a SKU (or summed over a product's SKUs)."""

    warehouse_code: str
    warehouse_name: str
    on_hand: int = 0
    available: int = 0
    threshold: int | None = None
    is_low: bool = False
    low_skus: int = 0
    skus: int = 0


def sku_warehouse_stock(sku_ids: Iterable[int]) -> dict[int, list[WarehouseStock]]:
    """`{sku_id: [one row per warehouse holding a level, by warehouse code]}`."""
    rows: dict[int, list[WarehouseStock]] = defaultdict(list)
    levels = stock_level_list().filter(sku_id__in=list(sku_ids)).order_by("sku_id", "warehouse__code")
    for level in levels:
        rows[level.sku_id].append(
            WarehouseStock(
                warehouse_code=level.warehouse.code,
                warehouse_name=level.warehouse.name,
                on_hand=level.on_hand,
                available=level.effective_available,
                threshold=level.low_stock_threshold,
                is_low=bool(level.effective_is_low),
                low_skus=int(bool(level.effective_is_low)),
                skus=1,
            )
        )
    return rows


def product_warehouse_stock(product_ids: Iterable[int]) -> dict[int, list[WarehouseStock]]:
    """`{product_id: [per warehouse: units over its active SKUs and how many of them are low]}`."""
    totals: dict[int, dict[str, WarehouseStock]] = defaultdict(dict)
    levels = (
        stock_level_list()
        .filter(sku__product_id__in=list(product_ids), sku__is_deleted=False)
        .order_by("warehouse__code")
        .only("sku__product_id", "warehouse__code", "warehouse__name", "on_hand", "reserved", "low_stock_threshold")
    )
    for level in levels:
        row = totals[level.sku.product_id].setdefault(
            level.warehouse.code,
            WarehouseStock(level.warehouse.code, level.warehouse.name),
        )
        row.on_hand += level.on_hand
        row.available += level.effective_available
        row.skus += 1
        if level.effective_is_low:
            row.low_skus += 1
            row.is_low = True
    return {product_id: list(rows.values()) for product_id, rows in totals.items()}
