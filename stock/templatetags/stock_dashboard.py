"""Template tags of the admin dashboard (`templates/admin/index.html`) and the SKU page's chart."""

from django import template

from catalog.models import SKU
from stock.models import StockMovement
from stock.selectors_dashboard import attention_counts, reservations_expiring, sku_stock_series, warehouse_totals

register = template.Library()


@register.inclusion_tag("admin/stock_dashboard.html", takes_context=True)
def stock_dashboard(context):
    """Stock per warehouse, low and out-of-stock counts, reservations expiring soon, a SKU's chart."""
    request = context["request"]
    if not request.user.has_perm("stock.view_stocklevel"):
        return {"visible": False}
    code = request.GET.get("sku", "").strip()
    sku = SKU.objects.filter(sku_code__iexact=code).first() if code else None
    if sku is None and not code:
        # The latest movement by the ledger's time index, not a join over every movement.
        latest = StockMovement.objects.order_by("-created_at", "-id").values_list("sku_id", flat=True).first()
        sku = SKU.objects.filter(pk=latest).first() if latest else None
    totals = warehouse_totals()
    return {
        "visible": True,
        "warehouses": totals,
        "total_units": sum(row.units for row in totals),
        "total_levels": sum(row.levels for row in totals),
        "total_reserved": sum(row.reserved for row in totals),
        "total_value": sum(row.value for row in totals),
        "counts": attention_counts(),
        "expiring": reservations_expiring(),
        "expiring_count": reservations_expiring(limit=None).count(),
        "chart_sku": sku,
        "chart_code": code,
        "series": sku_stock_series(sku=sku) if sku else [],
        "can_view_reservations": request.user.has_perm("stock.view_reservation"),
    }


@register.inclusion_tag("admin/stock_chart.html")
def stock_chart(sku, chart_id="stock-chart"):
    """A SKU's on-hand and available over time (Chart.js, from static files)."""
    return {"sku": sku, "series": sku_stock_series(sku=sku), "chart_id": chart_id}
