"""Reports over stock levels, for commands and cron jobs."""
from django.db.models import F, QuerySet

from stock.selectors import stock_levels_low, with_effective_quantities
from stock.models import StockLevel


def low_stock_report_levels(*, warehouse_code: str | None = None) -> QuerySet:
    """Levels of active SKUs in active warehouses whose available quantity is at or below the
    threshold, the furthest below first, then by warehouse and SKU code.

    Each row has `effective_available` and `shortfall` (threshold minus available).
    """
    levels = StockLevel.objects.filter(sku__is_deleted=False, warehouse__is_deleted=False)
    if warehouse_code:
        levels = levels.filter(warehouse__code=warehouse_code.strip().upper())
    levels = stock_levels_low(with_effective_quantities(levels))
    return (
        levels.annotate(shortfall=F("low_stock_threshold") - F("effective_available"))
        .select_related("sku", "sku__product", "warehouse")
        .order_by("-shortfall", "warehouse__code", "sku__sku_code")
    )
