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
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from catalog.admin.products import ProductAdmin
from catalog.admin.skus import SKUAdmin
from catalog.models import SKU, Product
from catalog.selectors import products_with_price_range
from inventory_site.templatetags.backoffice import money, quantity
from stock.admin.breakdown import (
    BreakdownChangeList,
    ProductBreakdownChangeList,
    breakdown_table,
    status_badge,
    warehouse_stock_of,
)
from stock.models import Warehouse
from stock.selectors import products_with_stock_status, skus_with_stock_status, stock_status, with_stock_status
from stock.selectors_breakdown import product_warehouse_stock, sku_warehouse_stock
from stock.templatetags.stock_dashboard import stock_chart


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
        value = self.value()
        if value in ("out", "low", "in"):
            return with_stock_status(queryset, value, available_field=self.available_field)
        return queryset


class SKUStockStatusFilter(StockStatusFilter):
    available_field = "stock_available"


class ProductStockAdmin(ProductAdmin):
    """Products with the total available over their active SKUs and a stock status."""

    class Media:
        css = {"all": ["admin-ext/backoffice.css"]}

    def variant_stock(self, grid):
        """What is available per active warehouse, per SKU of the grid (one query for all rows)."""
        warehouses = list(Warehouse.objects.filter(is_active=True).order_by("code").values_list("code", "name"))
        per_sku = sku_warehouse_stock([sku.pk for sku in grid.skus])
        cells = {}
        for sku_id, rows in per_sku.items():
            by_code = {row.warehouse_code: row for row in rows}
            cells[sku_id] = [by_code.get(code) for code, _name in warehouses]
        return warehouses, cells

    fieldsets = (
        ProductAdmin.fieldsets[0],
        ("Stock by warehouse", {"fields": ("stock_by_warehouse",)}),
        *ProductAdmin.fieldsets[1:],
    )
    # One line per product at 1,280 px: the last change's date is on the product's page.
    list_display = (
        "name",
        "category_path",
        "sku_count",
        "price_range",
        "available",
        "status",
        "warehouses",
        "is_deleted",
    )
    list_filter = (*ProductAdmin.list_filter, StockStatusFilter)
    change_only_fieldsets = ("Record", "Stock by warehouse")
    readonly_fields = (*ProductAdmin.readonly_fields, "stock_by_warehouse")

    def get_queryset(self, request):
        return products_with_price_range(products_with_stock_status(super().get_queryset(request)))

    def get_changelist(self, request, **kwargs):
        return ProductBreakdownChangeList

    @admin.display(description="price", ordering="price_min")
    def price_range(self, product):
        if product.price_min is None:
            return "-"
        if product.price_min == product.price_max:
            return money(product.price_min)
        return f"{product.price_min:,.2f}–{money(product.price_max)}"

    @admin.display(description="available", ordering="available_total")
    def available(self, product):
        return quantity(product.available_total)

    @admin.display(description="stock")
    def status(self, product):
        rows = warehouse_stock_of(product, product_warehouse_stock)
        return status_badge(stock_status(product.available_total, product.has_low_level, product.sku_count), rows)

    @admin.display(description="by warehouse")
    def warehouses(self, product):
        if product.pk is None:
            return "-"
        return breakdown_table(warehouse_stock_of(product, product_warehouse_stock), per_product=True, compact=True)

    @admin.display(description="by warehouse")
    def stock_by_warehouse(self, product):
        if product.pk is None:
            return "-"
        return breakdown_table(warehouse_stock_of(product, product_warehouse_stock), per_product=True)

    def csv_columns(self) -> list[tuple[str, Callable[[Product], Any]]]:
        columns = super().csv_columns()
        at = [header for header, _value in columns].index("sku_count") + 1
        return [*columns[:at], ("available", lambda p: p.available_total), *columns[at:]]


class SKUStockAdmin(SKUAdmin):
    """SKUs with their stock across warehouses; low stock stands out."""

    class Media:
        css = {"all": ["admin-ext/backoffice.css"]}

    list_display = (
        "sku_code",
        "product_link",
        "price_shown",
        "on_hand",
        "reserved",
        "available",
        "status",
        "warehouses",
        "is_deleted",
    )
    list_filter = (*SKUAdmin.list_filter, SKUStockStatusFilter)
    change_only_fieldsets = ("Record", "Stock over time")
    change_only_fields = ("stock_levels_link",)
    readonly_fields = ("stock_levels_link", "stock_chart", *SKUAdmin.readonly_fields)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "sku_code",
                    "product",
                    "price",
                    "attributes",
                    "backorder_policy",
                    "stock_levels_link",
                    "expected_version",
                )
            },
        ),
        ("Stock over time", {"fields": ("stock_chart",)}),
        *SKUAdmin.fieldsets[1:],
    )

    def get_queryset(self, request):
        return skus_with_stock_status(super().get_queryset(request))

    def get_changelist(self, request, **kwargs):
        return BreakdownChangeList

    @admin.display(description="on hand and available")
    def stock_chart(self, sku):
        if sku.pk is None:
            return "-"
        return render_to_string("admin/stock_chart.html", stock_chart(sku, "sku-stock-chart"))

    @admin.display(description="by warehouse")
    def warehouses(self, sku):
        return breakdown_table(warehouse_stock_of(sku, sku_warehouse_stock), compact=True)

    @admin.display(description="price", ordering="price")
    def price_shown(self, sku):
        return money(sku.price)

    @admin.display(description="on hand", ordering="stock_on_hand")
    def on_hand(self, sku):
        return quantity(sku.stock_on_hand)

    @admin.display(ordering="stock_reserved")
    def reserved(self, sku):
        return quantity(sku.stock_reserved)

    @admin.display(ordering="stock_available")
    def available(self, sku):
        return quantity(sku.stock_available)

    @admin.display(description="stock")
    def status(self, sku):
        return status_badge(
            stock_status(sku.stock_available, sku.has_low_level), warehouse_stock_of(sku, sku_warehouse_stock)
        )

    @admin.display(description="stock")
    def stock_levels_link(self, sku):
        if sku.pk is None:
            return "Add stock after saving, from the stock levels screen."
        rows = warehouse_stock_of(sku, sku_warehouse_stock)
        return format_html(
            '{} on hand, {} reserved, {} available {} &mdash; <a href="{}">stock levels and adjustments &rsaquo;</a>{}',
            sku.stock_on_hand,
            sku.stock_reserved,
            sku.stock_available,
            status_badge(stock_status(sku.stock_available, sku.has_low_level), rows),
            _levels_url(sku),
            breakdown_table(rows),
        )


admin.site.unregister(Product)
admin.site.register(Product, ProductStockAdmin)
admin.site.unregister(SKU)
admin.site.register(SKU, SKUStockAdmin)
