"""Products, with their SKUs in a variant grid (`catalog.admin.variants`); writes through `catalog.services`."""

import csv
from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import admin
from django.http import HttpResponse
from django.utils.html import format_html
from django.utils.text import smart_split, unescape_string_literal
from import_export.admin import ImportExportMixin
from simple_history.admin import SimpleHistoryAdmin

from catalog import selectors, services
from catalog.admin.bulk import BulkEditActionsMixin
from catalog.admin.forms import ProductAdminForm
from catalog.admin.history import VariantHistoryMixin
from catalog.admin.resources import ProductResource, ProductSKUExportResource
from catalog.admin.variants import VariantGridMixin
from catalog.models import SKU, Category, Product
from inventory_site.admin import DeletedListFilter, ImportConfirmMixin, ServiceAdminMixin, object_id
from inventory_site.import_screens import ImportScreenMixin
from inventory_site.jobs.screens import BackgroundImportExportMixin
from inventory_site.spreadsheets import SafeCSV, SafeXLSX, csv_cell_escaped
from inventory_site.types import AdminFieldsets, AdminListFilters


class CategoryTreeFilter(admin.SimpleListFilter):
    """A category and everything below it; the list drills down one level at a time."""

    title = "category (with sub-categories)"
    parameter_name = "category_tree"
    category_lookup = "category"

    def lookups(self, request, model_admin):
        value = self.value()
        node = Category.all_objects.filter(pk=object_id(value)).first() if object_id(value) is not None else None
        if node is None:
            nodes = Category.objects.filter(level=0)[:50]
        else:
            ancestors = list(node.get_ancestors(include_self=True))
            nodes = ancestors + list(Category.objects.filter(parent=node)[:50])
        return [(str(n.pk), format_html("{}{}", "\u2003" * n.level, n.name)) for n in nodes]

    def queryset(self, request, queryset):
        value = self.value()
        if object_id(value) is None:
            return queryset
        node = Category.all_objects.filter(pk=object_id(value)).first()
        if node is None:
            return queryset.none()
        field = self.category_lookup
        return queryset.filter(
            **{
                f"{field}__tree_id": node.tree_id,
                f"{field}__lft__gte": node.lft,
                f"{field}__lft__lte": node.rght,
            }
        )


@admin.register(Product)
class ProductAdmin(
    VariantGridMixin,
    VariantHistoryMixin,
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

    form = ProductAdminForm
    formats = [SafeCSV, SafeXLSX]
    resource_classes = [ProductResource]
    # Export: the products' own columns (these import back here), or one row per SKU with prices.
    export_resource_classes = [ProductResource, ProductSKUExportResource]
    list_display: tuple[str, ...] = ("name", "category_path", "sku_count", "is_deleted", "updated_at")
    list_filter: ClassVar[AdminListFilters] = (CategoryTreeFilter, DeletedListFilter)
    list_select_related = ("category",)
    list_per_page = 100
    # Each word of a search goes through `selectors.product_search` (as the API's `search`):
    # name, description or an active SKU's code.
    search_fields = ("name", "description")
    autocomplete_fields = ("category",)
    readonly_fields: ClassVar[tuple[str, ...]] = (
        "slug",
        "version",
        "is_deleted",
        "deleted_at",
        "created_at",
        "updated_at",
    )
    fieldsets: ClassVar[AdminFieldsets] = (
        (None, {"fields": ("name", "category", "description", "attributes", "expected_version")}),
        (
            "Record",
            {
                "fields": ("slug", "version", "is_deleted", "deleted_at", "created_at", "updated_at"),
                "classes": ("collapse",),
            },
        ),
    )
    actions = ["soft_delete_selected", "restore_selected", "export_csv", "move_to_category", "change_price"]

    def get_queryset(self, request):
        return selectors.product_list()

    def get_export_resource_classes(self, request):
        return self.export_resource_classes

    def bulk_targets(self, queryset, model) -> list[int]:
        """The products ticked; for a price change, their active SKUs."""
        if model is SKU:
            return list(SKU.objects.filter(product__in=queryset.values("pk")).values_list("pk", flat=True))
        return list(queryset.values_list("pk", flat=True))

    def get_search_results(self, request, queryset, search_term):
        if request.path.endswith("/autocomplete/"):
            queryset = queryset.filter(is_deleted=False)  # a SKU's product
            return super().get_search_results(request, queryset, search_term)
        for word in smart_split(search_term):
            word = unescape_string_literal(word) if word[0] in "\"'" and word[0] == word[-1] else word
            queryset = selectors.product_search(queryset, word)
        return queryset, False

    @admin.display(description="category", ordering="category__path")
    def category_path(self, product):
        """The path, cut with an ellipsis where space is short (the whole path on hover)."""
        return format_html('<span class="cut" title="{}">{}</span>', product.category.path, product.category.path)

    @admin.display(description="SKUs", ordering="sku_count")
    def sku_count(self, product):
        return product.sku_count

    def csv_columns(self) -> list[tuple[str, Callable[[Product], Any]]]:
        """The columns of "Export selected as CSV": a header and the value of a product."""
        return [
            ("id", lambda p: p.pk),
            ("name", lambda p: p.name),
            ("category_path", lambda p: p.category.path),
            ("description", lambda p: p.description),
            ("sku_count", lambda p: p.sku_count),
            ("is_deleted", lambda p: p.is_deleted),
        ]

    @admin.action(description="Export selected as CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="products.csv"'
        writer = csv.writer(response)
        columns = self.csv_columns()
        writer.writerow([header for header, _value in columns])
        for p in queryset.select_related("category").order_by("pk"):
            writer.writerow([csv_cell_escaped(value(p)) for _header, value in columns])
        return response

    # -- writes, all through catalog.services ------------------------------------------
    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "category_id": data["category"].pk,
            "description": data.get("description", ""),
            "attributes": data.get("attributes") or {},
        }
        if change and not form.has_changed() and not hasattr(obj, "_history"):
            return  # only its SKUs changed: no empty "Changed" record of the product (a revert always saves)
        if change:
            saved = services.product_update(
                user=request.user,
                product_id=obj.pk,
                expected_version=data["expected_version"],
                **fields,
            )
        else:
            saved = services.product_create(user=request.user, **fields)
        obj.__dict__.update(saved.__dict__)

    def soft_delete_row(self, user, obj):
        services.product_soft_delete(user=user, product_id=obj.pk, cascade=True)

    def restore_row(self, user, obj):
        services.product_restore(user=user, product_id=obj.pk)

    def hard_delete_row(self, user, obj):
        services.product_hard_delete(user=user, product_id=obj.pk)
