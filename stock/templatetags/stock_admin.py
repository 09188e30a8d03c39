"""Template tags of the admin index (`templates/admin/index.html`): the low-stock panel.

In `stock`, not the platform: the panel reads stock, and `inventory_site` imports no app.
"""

from django import template

from stock.selectors import stock_status
from stock.selectors_reports import low_stock_report_levels

register = template.Library()

LOW_STOCK_PANEL_ROWS = 15


@register.inclusion_tag("admin/low_stock_panel.html", takes_context=True)
def low_stock_panel(context):
    """The low-stock report's levels, emptiest first (for users who may see stock)."""
    user = context["request"].user
    if not user.has_perm("stock.view_stocklevel"):
        return {"visible": False}
    low = low_stock_report_levels().order_by("effective_available", "sku__sku_code")
    rows = list(low[: LOW_STOCK_PANEL_ROWS + 1])
    for level in rows:
        level.status = stock_status(level.effective_available, level.effective_is_low)
    return {
        "visible": True,
        "levels": rows[:LOW_STOCK_PANEL_ROWS],
        "more": len(rows) > LOW_STOCK_PANEL_ROWS,
        "can_adjust": user.has_perm("stock.adjust_stock"),
    }
