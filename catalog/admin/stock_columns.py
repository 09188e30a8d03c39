"""Stock status in the catalog lists: its badge and filters.

The figures and the rule (`stock.selectors.stock_status`) are annotations from
`stock.selectors`, so a page costs a fixed number of queries.
"""
from django.contrib import admin
from django.utils.html import format_html

STATUS_LABELS = {"in": "In stock", "low": "Low", "out": "Out of stock", "none": "No SKUs"}


def status_badge(status: str):
    return format_html('<span class="stock-status {}">{}</span>', status, STATUS_LABELS[status])


class StockStatusFilter(admin.SimpleListFilter):
    """In stock / low / out of stock, on the annotations above."""

    title = "stock status"
    parameter_name = "stock"
    available_field = "available_total"

    def lookups(self, request, model_admin):
        return [("in", "In stock"), ("low", "Low"), ("out", "Out of stock")]

    def queryset(self, request, queryset):
        value = self.value()
        field = self.available_field
        if value == "out":
            return queryset.filter(**{f"{field}__lte": 0})
        if value == "low":
            return queryset.filter(**{f"{field}__gt": 0}, has_low_level=True)
        if value == "in":
            return queryset.filter(**{f"{field}__gt": 0}, has_low_level=False)
        return queryset


class SKUStockStatusFilter(StockStatusFilter):
    available_field = "stock_available"
