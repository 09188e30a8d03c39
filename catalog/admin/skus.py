"""SKUs with their stock across warehouses; low stock stands out. Writes through `catalog.services`."""
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin

from catalog.admin.forms import SKUAdminForm
from catalog.admin.products import CategoryTreeFilter
from catalog.admin.resources import SKUResource
from catalog.admin.stock_columns import SKUStockStatusFilter, status_badge
from stock.selectors import skus_with_stock_status, stock_status
from catalog import services
from catalog.models import SKU
from inventory_site.spreadsheets import SafeCSV, SafeXLSX
from inventory_site.admin import DeletedListFilter, ImportConfirmMixin, ServiceAdminMixin


class SKUCategoryTreeFilter(CategoryTreeFilter):
    category_lookup = "product__category"


@admin.register(SKU)
class SKUAdmin(ServiceAdminMixin, ImportConfirmMixin, ImportExportMixin, SimpleHistoryAdmin):
    class Media:
        css = {"all": ["admin-ext/admin-ext.css"]}

    form = SKUAdminForm
    formats = [SafeCSV, SafeXLSX]
    resource_classes = [SKUResource]
    list_display = ("sku_code", "product_link", "price", "on_hand", "reserved", "available", "status", "is_deleted")
    list_filter = (SKUCategoryTreeFilter, DeletedListFilter, SKUStockStatusFilter)
    list_select_related = ("product",)
    list_per_page = 100
    search_fields = ("sku_code", "product__name", "product__description")
    autocomplete_fields = ("product",)
    readonly_fields = ("stock_levels_link", "version", "is_deleted", "deleted_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("sku_code", "product", "price", "attributes", "stock_levels_link", "expected_version")}),
        ("Record", {"fields": ("version", "is_deleted", "deleted_at", "created_at", "updated_at"),
                    "classes": ("collapse",)}),
    )

    def get_queryset(self, request):
        return skus_with_stock_status(SKU.all_objects.all())

    @admin.display(description="product", ordering="product__name")
    def product_link(self, sku):
        url = reverse("admin:catalog_product_change", args=[sku.product_id])
        return format_html('<a href="{}">{}</a>', url, sku.product.name)

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
        url = reverse("admin:stock_stocklevel_changelist") + f"?sku__id__exact={sku.pk}"
        return format_html(
            '{} on hand, {} reserved, {} available &mdash; <a href="{}">stock levels and adjustments &rsaquo;</a>',
            sku.stock_on_hand, sku.stock_reserved, sku.stock_available, url,
        )

    # -- writes, all through catalog.services ------------------------------------------
    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "sku_code": data["sku_code"], "product_id": data["product"].pk, "price": data["price"],
            "attributes": data.get("attributes") or {},
        }
        if change:
            saved = services.sku_update(
                user=request.user, sku_id=obj.pk, expected_version=data["expected_version"], **fields,
            )
        else:
            saved = services.sku_create(user=request.user, **fields)
        obj.__dict__.update(saved.__dict__)

    def soft_delete_row(self, user, obj):
        services.sku_soft_delete(user=user, sku_id=obj.pk)

    def restore_row(self, user, obj):
        services.sku_restore(user=user, sku_id=obj.pk)

    def hard_delete_row(self, user, obj):
        services.sku_hard_delete(user=user, sku_id=obj.pk)
