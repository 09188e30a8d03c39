"""Reports over stock levels: the low-stock report of the command and of the admin index."""

from django.db.models import F, QuerySet

from stock.models import StockLevel, Warehouse
from stock.selectors import stock_levels_low, with_effective_quantities


def low_stock_report_levels(*, warehouse: Warehouse | None = None) -> QuerySet:
    """Levels of active SKUs in active warehouses whose available quantity is at or below the
    threshold, the furthest below first, then by warehouse and SKU code.

    Each row has `effective_available` and `shortfall` (threshold minus available). The one
    low-stock list: `low_stock_report` prints it, the admin index shows its top.
    """
    levels = StockLevel.objects.filter(sku__is_deleted=False, warehouse__is_deleted=False)
    if warehouse is not None:
        levels = levels.filter(warehouse=warehouse)
    levels = stock_levels_low(with_effective_quantities(levels))
    return (
        levels.annotate(shortfall=F("low_stock_threshold") - F("effective_available"))
        .select_related("sku", "sku__product", "warehouse")
        .order_by("-shortfall", "warehouse__code", "sku__sku_code")
    )
