"""Stock figures for catalog lists, as annotations so a page costs a fixed number of queries.

A level is *low* when its available units (on hand minus what active reservations hold)
are at or below its `low_stock_threshold` (see `stock.selectors`). A product or SKU is
*out* when nothing is available, *low* when one of its levels is low, else *in stock*.
"""
from django.contrib import admin
from django.db.models import Exists, F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.html import format_html

from catalog.models import SKU
from stock.models import StockLevel
from stock.selectors import overdue_lines, stock_levels_low, with_stock_totals

STATUS_LABELS = {"in": "In stock", "low": "Low", "out": "Out of stock", "none": "No SKUs"}


def _sum_subquery(rows: QuerySet, group_by: str, expression) -> Coalesce:
    total = rows.order_by().values(group_by).annotate(total=Sum(expression)).values("total")
    return Coalesce(Subquery(total, output_field=IntegerField()), Value(0))


def low_levels(levels: QuerySet) -> QuerySet:
    """`stock_levels_low`, narrowed first by the stored quantities.

    Overdue reservations only ever add to what is available, so a level that is low as
    read is also low by its stored `reserved`: the cheap test lets PostgreSQL skip the
    overdue-reservations subquery for every level that is clearly not low.
    """
    return stock_levels_low(levels.filter(on_hand__lte=F("reserved") + F("low_stock_threshold")))


def products_with_stock(queryset: QuerySet) -> QuerySet:
    """Products with `sku_total`, `available_total` and `has_low_level` (active SKUs only)."""
    levels = StockLevel.objects.filter(sku__product=OuterRef("pk"), sku__is_deleted=False)
    overdue = overdue_lines().filter(sku__product=OuterRef("pk"), sku__is_deleted=False)
    skus = SKU.all_objects.filter(product=OuterRef("pk"), is_deleted=False)
    return queryset.annotate(
        sku_total=_sum_subquery(skus, "product", Value(1)),
        available_total=(
            _sum_subquery(levels, "sku__product", F("on_hand") - F("reserved"))
            + _sum_subquery(overdue, "sku__product", F("quantity"))
        ),
        has_low_level=Exists(low_levels(levels)),
    )


def skus_with_stock(queryset: QuerySet) -> QuerySet:
    """SKUs with `stock_on_hand`, `stock_reserved`, `stock_available` and `has_low_level`."""
    return with_stock_totals(queryset).annotate(
        has_low_level=Exists(low_levels(StockLevel.objects.filter(sku_id=OuterRef("pk")))),
    )


def stock_status(available: int, has_low_level: bool, sku_total: int | None = None) -> str:
    if sku_total == 0:
        return "none"
    if available <= 0:
        return "out"
    return "low" if has_low_level else "in"


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
