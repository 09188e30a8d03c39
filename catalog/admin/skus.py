"""SKUs: code, product, price and attributes. Writes through `catalog.services`."""

from typing import ClassVar

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin

from catalog import services
from catalog.admin.bulk import BulkEditActionsMixin
from catalog.admin.forms import SKUAdminForm
from catalog.admin.products import CategoryTreeFilter
from catalog.admin.resources import SKUResource
from catalog.models import SKU, BackorderPolicy, Product
from inventory_site.admin import DeletedListFilter, ImportConfirmMixin, ServiceAdminMixin, run_service_per_row
from inventory_site.import_screens import ImportScreenMixin
from inventory_site.jobs.screens import BackgroundImportExportMixin
from inventory_site.spreadsheets import SafeCSV, SafeXLSX
from inventory_site.types import AdminFieldsets, AdminListFilters


class SKUCategoryTreeFilter(CategoryTreeFilter):
    category_lookup = "product__category"


@admin.register(SKU)
class SKUAdmin(
    BulkEditActionsMixin,
    ServiceAdminMixin,
    ImportConfirmMixin,
    ImportScreenMixin,
    BackgroundImportExportMixin,
    ImportExportMixin,
    SimpleHistoryAdmin,
):
    class Media:
        css = {"all": ["admin-ext/admin-ext.css"]}

    form = SKUAdminForm
    formats = [SafeCSV, SafeXLSX]
    resource_classes = [SKUResource]
    list_display: tuple[str, ...] = ("sku_code", "product_link", "price", "backorder_policy", "is_deleted")
    list_filter: ClassVar[AdminListFilters] = (SKUCategoryTreeFilter, DeletedListFilter)
    list_select_related = ("product",)
    list_per_page = 100
    search_fields = ("sku_code", "product__name", "product__description")
    autocomplete_fields = ("product",)
    readonly_fields: ClassVar[tuple[str, ...]] = ("version", "is_deleted", "deleted_at", "created_at", "updated_at")
    fieldsets: ClassVar[AdminFieldsets] = (
        (None, {"fields": ("sku_code", "product", "price", "attributes", "backorder_policy", "expected_version")}),
        (
            "Record",
            {"fields": ("version", "is_deleted", "deleted_at", "created_at", "updated_at"), "classes": ("collapse",)},
        ),
    )

    actions = [
        "soft_delete_selected",
        "restore_selected",
        "change_price",
        "move_to_category",
        "allow_backorders",
        "deny_backorders",
    ]

    def get_queryset(self, request):
        # Ordered for the SKU code autocomplete (its pages); the change list sorts by its own columns.
        return SKU.all_objects.order_by("sku_code")

    def bulk_targets(self, queryset, model) -> list[int]:
        """The SKUs ticked; for a move, their products."""
        if model is Product:
            return list(queryset.values_list("product_id", flat=True).distinct())
        return list(queryset.values_list("pk", flat=True))

    @admin.display(description="product", ordering="product__name")
    def product_link(self, sku):
        url = reverse("admin:catalog_product_change", args=[sku.product_id])
        return format_html('<a href="{}">{}</a>', url, sku.product.name)

    # -- writes, all through catalog.services ------------------------------------------
    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "sku_code": data["sku_code"],
            "product_id": data["product"].pk,
            "price": data["price"],
            "attributes": data.get("attributes") or {},
        }
        if data.get("backorder_policy"):
            fields["backorder_policy"] = data["backorder_policy"]
        if change:
            saved = services.sku_update(
                user=request.user,
                sku_id=obj.pk,
                expected_version=data["expected_version"],
                **fields,
            )
        else:
            saved = services.sku_create(user=request.user, **fields)
        obj.__dict__.update(saved.__dict__)

    def _set_backorder_policy(self, request, queryset, policy: str) -> None:
        run_service_per_row(
            self,
            request,
            queryset.filter(is_deleted=False),
            lambda user, sku: services.sku_update(user=user, sku_id=sku.pk, backorder_policy=policy),
            "Updated the backorder policy of",
        )

    @admin.action(description="Backorders: allow against incoming stock (preorders)", permissions=["change"])
    def allow_backorders(self, request, queryset):
        self._set_backorder_policy(request, queryset, BackorderPolicy.ALLOW_INCOMING)

    @admin.action(description="Backorders: deny", permissions=["change"])
    def deny_backorders(self, request, queryset):
        self._set_backorder_policy(request, queryset, BackorderPolicy.DENY)

    def soft_delete_row(self, user, obj):
        services.sku_soft_delete(user=user, sku_id=obj.pk)

    def restore_row(self, user, obj):
        services.sku_restore(user=user, sku_id=obj.pk)

    def hard_delete_row(self, user, obj):
        services.sku_hard_delete(user=user, sku_id=obj.pk)
