"""Template tags of the admin index (`templates/admin/index.html`): the low-stock panel.

In `stock`, not the platform: the panel reads stock, and `inventory_site` imports no app.
"""
from django import template

from stock.selectors import stock_level_list, stock_levels_low

register = template.Library()

LOW_STOCK_PANEL_ROWS = 15


@register.inclusion_tag("admin/low_stock_panel.html", takes_context=True)
def low_stock_panel(context):
    """Levels at or below their threshold, emptiest first (for users who may see stock)."""
    user = context["request"].user
    if not user.has_perm("stock.view_stocklevel"):
        return {"visible": False}
    low = stock_levels_low(stock_level_list().select_related("sku__product"))
    rows = list(low.order_by("effective_available", "sku__sku_code")[: LOW_STOCK_PANEL_ROWS + 1])
    return {
        "visible": True,
        "levels": rows[:LOW_STOCK_PANEL_ROWS],
        "more": len(rows) > LOW_STOCK_PANEL_ROWS,
        "can_adjust": user.has_perm("stock.adjust_stock"),
    }
