"""The category tree: drag and drop through `category_move`, one level at a time.

DraggableMPTTAdmin shows the whole tree on one page; at 10k categories that page is
slow. This admin shows the top level by default and a node's children on demand
(`?parent=<id>`, the "N inside" link), so a page holds one level of one branch;
a search or `?parent=all` lists every level, paginated.
"""

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from import_export.admin import ImportExportMixin
from mptt.admin import DraggableMPTTAdmin
from simple_history.admin import SimpleHistoryAdmin

from catalog import services
from catalog.admin.bulk import BulkEditActionsMixin
from catalog.admin.forms import CategoryAdminForm
from catalog.admin.resources import CategoryResource
from catalog.models import Category, Product
from inventory_site.admin import DeletedListFilter, ImportConfirmMixin, ServiceAdminMixin, object_id
from inventory_site.exceptions import DomainError
from inventory_site.import_screens import ImportScreenMixin
from inventory_site.jobs.screens import BackgroundImportExportMixin
from inventory_site.spreadsheets import SafeCSV, SafeXLSX

MOVE_POSITIONS = ("last-child", "left", "right")


class TreeLevelFilter(admin.SimpleListFilter):
    """Which part of the tree a page shows: the top level, one node's children, or all."""

    title = "tree level"
    parameter_name = "parent"

    def lookups(self, request, model_admin):
        choices: list[tuple[str | None, str]] = [("all", "All levels")]
        value = self.value()
        if object_id(value) is not None:
            parent = Category.all_objects.filter(pk=object_id(value)).first()
            if parent is not None:
                choices.append((value, f"Inside {parent}"))
        return choices

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Top level",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == "all":
            return queryset
        if object_id(value) is not None:
            return queryset.filter(parent_id=object_id(value))
        if request.GET.get("q") or request.GET.get("deleted") in ("deleted", "all"):
            return queryset  # a search or the deleted rows: show every level
        if request.method == "POST" and "action" in request.POST:
            return queryset  # an action applies to the rows ticked, at any level
        return queryset.filter(parent__isnull=True)


@admin.register(Category)
class CategoryAdmin(
    BulkEditActionsMixin,
    ServiceAdminMixin,
    ImportConfirmMixin,
    ImportScreenMixin,
    BackgroundImportExportMixin,
    ImportExportMixin,
    SimpleHistoryAdmin,
    DraggableMPTTAdmin,
):
    form = CategoryAdminForm
    formats = [SafeCSV, SafeXLSX]
    resource_classes = [CategoryResource]
    change_list_template = "admin/catalog/category/change_list.html"
    list_display = ("tree_actions", "indented_title", "children_link", "product_count", "is_deleted", "updated_at")
    list_display_links = ("indented_title",)
    list_filter = (TreeLevelFilter, DeletedListFilter)
    list_per_page = 100
    search_fields = ("name", "path")
    actions = ["soft_delete_selected", "restore_selected", "move_categories"]
    # A select of the whole tree takes seconds to render at 10k categories: search it instead.
    autocomplete_fields = ("parent",)
    readonly_fields = ("path", "version", "is_deleted", "deleted_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "parent", "description", "attributes", "expected_version")}),
        (
            "Record",
            {
                "fields": ("path", "version", "is_deleted", "deleted_at", "created_at", "updated_at"),
                "classes": ("collapse",),
            },
        ),
    )

    def get_search_results(self, request, queryset, search_term):
        if request.path.endswith("/autocomplete/"):
            queryset = queryset.filter(is_deleted=False)  # a parent or a product's category
        return super().get_search_results(request, queryset, search_term)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # One subquery per page each: active products in the node and everything below it, and the
        # active children (the rows the "N inside" link opens).
        children = Category.all_objects.filter(parent=OuterRef("pk"), is_deleted=False).order_by().values("parent")
        queryset = queryset.annotate(
            active_children=Coalesce(Subquery(children.annotate(n=Count("pk")).values("n")), 0)
        )
        return Category.all_objects.add_related_count(
            queryset,
            Product,
            "category",
            "active_product_count",
            cumulative=True,
            extra_filters={"is_deleted": False},
        )

    @admin.display(description="name")
    def indented_title(self, item):
        label = item.name if not item.is_deleted else f"{item.name} (deleted)"
        return format_html('<div style="text-indent:{}px">{}</div>', item.level * self.mptt_level_indent, label)

    @admin.display(description="sub-categories")
    def children_link(self, item):
        """The active sub-categories one level down: the rows the link lists."""
        inside = item.active_children
        if not inside:
            return "-"
        url = reverse("admin:catalog_category_changelist") + f"?parent={item.pk}"
        return format_html('<a class="tree-expand" href="{}">&#9656; {} inside</a>', url, inside)

    @admin.display(description="products", ordering="active_product_count")
    def product_count(self, item):
        # The count is read by static/admin-ext/category-move-confirm.js before a drop.
        return format_html(
            '<span class="branch-products" data-count="{}">{}</span>',
            item.active_product_count,
            item.active_product_count,
        )

    # -- writes, all through catalog.services ------------------------------------------
    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "name": data["name"],
            "description": data.get("description", ""),
            "attributes": data.get("attributes") or {},
        }
        parent_id = data["parent"].pk if data.get("parent") else None
        if change:
            saved = services.category_update(
                user=request.user,
                category_id=obj.pk,
                expected_version=data["expected_version"],
                parent_id=parent_id,
                **fields,
            )
        else:
            saved = services.category_create(user=request.user, parent_id=parent_id, **fields)
        obj.__dict__.update(saved.__dict__)

    def soft_delete_row(self, user, obj):
        services.category_soft_delete(user=user, category_id=obj.pk)

    def restore_row(self, user, obj):
        services.category_restore(user=user, category_id=obj.pk)

    def hard_delete_row(self, user, obj):
        services.category_hard_delete(user=user, category_id=obj.pk)

    def _move_node(self, request):
        """The drop of a dragged row (`cmd=move_node`), through `category_move`."""
        position = request.POST.get("position")
        if position not in MOVE_POSITIONS:
            self.message_user(request, "Did not understand the move.", messages.ERROR)
            return HttpResponse("FAIL, unknown instruction.")
        try:
            cut_id, target_id = int(request.POST["cut_item"]), int(request.POST["pasted_on"])
        except (KeyError, TypeError, ValueError):
            self.message_user(request, "The categories have disappeared; reload and try again.", messages.ERROR)
            return HttpResponse("FAIL, invalid objects.")
        if not self.has_change_permission(request):
            self.message_user(request, "You may not move categories.", messages.ERROR)
            return HttpResponse("FAIL, no permission.")
        try:
            moved = services.category_move(
                user=request.user,
                category_id=cut_id,
                target_id=target_id,
                position=position,
            )
        except Category.DoesNotExist:
            self.message_user(request, "The categories have disappeared; reload and try again.", messages.ERROR)
            return HttpResponse("FAIL, invalid objects.")
        except DomainError as exc:
            self.message_user(request, f"Not moved: {exc.message}", messages.ERROR)
            return HttpResponse(f"FAIL, {exc.code}.")
        LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=[moved],
            action_flag=CHANGE,
            change_message=[{"changed": {"fields": ["parent"]}}],
            single_object=True,
        )
        self.message_user(request, f"{moved} has been moved.", messages.SUCCESS)
        return HttpResponse("OK, moved.")

    def _build_tree_structure(self, queryset):
        # The stock version serializes the whole tree into the page; only this page's
        # rows (one level) are in the DOM, so there is nothing to collapse.
        return {}

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "tree_crumbs": self._crumbs(request)}
        return super().changelist_view(request, extra_context)

    def _crumbs(self, request):
        pk = object_id(request.GET.get("parent"))
        if pk is None:
            return []
        node = Category.all_objects.filter(pk=pk).first()
        if node is None:
            return []
        return list(node.get_ancestors(include_self=True).only("pk", "name"))
