"""Warehouses: codes, the default one, the allocation priority, soft delete and restore, through `stock.services`."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from inventory_site.admin import DeletedListFilter, ServiceAdminMixin, VersionedAdminForm
from stock import services
from stock.models import Warehouse


class WarehouseForm(VersionedAdminForm):
    class Meta:
        model = Warehouse
        fields = ["code", "name", "is_active", "is_default", "priority"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["priority"].required = False  # empty: the model's default

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()

    def clean_priority(self):
        value = self.cleaned_data.get("priority")
        return Warehouse._meta.get_field("priority").default if value is None else value


@admin.register(Warehouse)
class WarehouseAdmin(ServiceAdminMixin, SimpleHistoryAdmin):
    class Media:
        css = {"all": ["admin-ext/admin-ext.css"]}

    form = WarehouseForm
    list_display = ("code", "name", "is_active", "is_default", "priority", "levels_link", "is_deleted")
    list_filter = (DeletedListFilter, "is_active")
    search_fields = ("code", "name")
    readonly_fields = ("version", "is_deleted", "deleted_at", "created_at", "updated_at")
    fields = ("code", "name", "is_active", "is_default", "priority", "expected_version", *readonly_fields)

    def get_queryset(self, request):
        return Warehouse.all_objects.all()

    @admin.display(description="stock")
    def levels_link(self, warehouse):
        url = reverse("admin:stock_stocklevel_changelist") + f"?warehouse__id__exact={warehouse.pk}"
        return format_html('<a href="{}">levels &rsaquo;</a>', url)

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data[k] for k in ("code", "name", "is_active", "is_default", "priority")}
        if change:
            current = Warehouse.all_objects.get(pk=obj.pk)
            saved = services.warehouse_update(
                warehouse=current, expected_version=form.cleaned_data["expected_version"], user=request.user, **data
            )
        else:
            saved = services.warehouse_create(user=request.user, **data)
        obj.__dict__.update(saved.__dict__)

    def soft_delete_row(self, user, obj):
        services.warehouse_soft_delete(warehouse=obj, user=user)

    def restore_row(self, user, obj):
        services.warehouse_restore(warehouse=obj, user=user)

    def hard_delete_row(self, user, obj):
        services.warehouse_hard_delete(warehouse=obj, user=user)
