"""The catalog's product and SKU screens with their stock: totals, a status badge, a stock
status filter and links to the stock screens.

The catalog knows nothing of stock, so its `ProductAdmin` and `SKUAdmin` are replaced here
by subclasses that add the stock columns; every write still goes through `catalog.services`.
The figures and the rule (`stock.selectors.stock_status`) are annotations from
`stock.selectors`, so a page costs a fixed number of queries.
"""
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from catalog.admin.products import ProductAdmin, SKUInline
from catalog.admin.skus import SKUAdmin
from catalog.models import SKU, Product
from stock.selectors import products_with_stock_status, skus_with_stock_status, stock_status, with_stock_status

STATUS_LABELS = {"in": "In stock", "low": "Low", "out": "Out of stock", "none": "No SKUs"}


def status_badge(status: str):
    """The stock status as the lists show it."""
    return format_html('<span class="stock-status {}">{}</span>', status, STATUS_LABELS[status])


def _levels_url(sku) -> str:
    return reverse("admin:stock_stocklevel_changelist") + f"?sku__id__exact={sku.pk}"


class StockStatusFilter(admin.SimpleListFilter):
    """In stock / low / out of stock, on the annotations of `stock.selectors`."""

    title = "stock status"
    parameter_name = "stock"
    available_field = "available_total"

    def lookups(self, request, model_admin):
        return [("in", "In stock"), ("low", "Low"), ("out", "Out of stock")]

    def queryset(self, request, queryset):
        if self.value() in ("out", "low", "in"):
            return with_stock_status(queryset, self.value(), available_field=self.available_field)
        return queryset


class SKUStockStatusFilter(StockStatusFilter):
    available_field = "stock_available"


class SKUStockInline(SKUInline):
    """Code, price and attributes; stock is shown, never edited here."""

    fields = ("sku_code", "price", "attributes", "stock", "expected_version")
    readonly_fields = ("stock",)

    def get_queryset(self, request):
        return skus_with_stock_status(super().get_queryset(request))

    @admin.display(description="stock")
    def stock(self, sku):
        if sku.pk is None:
            return "-"
        status = stock_status(sku.stock_available, sku.has_low_level)
        return format_html(
            '{} on hand, {} available {} <a href="{}">levels &rsaquo;</a>',
            sku.stock_on_hand, sku.stock_available, status_badge(status), _levels_url(sku),
        )


class ProductStockAdmin(ProductAdmin):
    """Products with the total available over their active SKUs and a stock status."""

    inlines = [SKUStockInline]
    list_display = ("name", "category_path", "sku_count", "available", "status", "is_deleted", "updated_at")
    list_filter = (*ProductAdmin.list_filter, StockStatusFilter)

    def get_queryset(self, request):
        return products_with_stock_status(super().get_queryset(request))

    @admin.display(description="available", ordering="available_total")
    def available(self, product):
        return product.available_total

    @admin.display(description="stock")
    def status(self, product):
        return status_badge(stock_status(product.available_total, product.has_low_level, product.sku_count))

    def csv_columns(self) -> list[tuple[str, Callable[[Product], Any]]]:
        columns = super().csv_columns()
        at = [header for header, _value in columns].index("sku_count") + 1
        return [*columns[:at], ("available", lambda p: p.available_total), *columns[at:]]


class SKUStockAdmin(SKUAdmin):
    """SKUs with their stock across warehouses; low stock stands out."""

    list_display = ("sku_code", "product_link", "price", "on_hand", "reserved", "available", "status", "is_deleted")
    list_filter = (*SKUAdmin.list_filter, SKUStockStatusFilter)
    readonly_fields = ("stock_levels_link", *SKUAdmin.readonly_fields)
    fieldsets = (
        (None, {"fields": ("sku_code", "product", "price", "attributes", "stock_levels_link", "expected_version")}),
        *SKUAdmin.fieldsets[1:],
    )

    def get_queryset(self, request):
        return skus_with_stock_status(super().get_queryset(request))

    @admin.display(description="on hand", ordering="stock_on_hand")
    def on_hand(self, sku):
        return sku.stock_on_hand

    @admin.display(ordering="stock_reserved")
    def reserved(self, sku):
        return sku.stock_reserved

    @admin.display(ordering="stock_available")
    def available(self, sku):
        return sku.stock_available

    @admin.display(description="stock")
    def status(self, sku):
        return status_badge(stock_status(sku.stock_available, sku.has_low_level))

    @admin.display(description="stock")
    def stock_levels_link(self, sku):
        if sku.pk is None:
            return "Add stock after saving, from the stock levels screen."
        return format_html(
            '{} on hand, {} reserved, {} available &mdash; <a href="{}">stock levels and adjustments &rsaquo;</a>',
            sku.stock_on_hand, sku.stock_reserved, sku.stock_available, _levels_url(sku),
        )


admin.site.unregister(Product)
admin.site.register(Product, ProductStockAdmin)
admin.site.unregister(SKU)
admin.site.register(SKU, SKUStockAdmin)
