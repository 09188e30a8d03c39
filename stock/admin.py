"""The stock admin: warehouses, levels with an "Adjust stock" form, the read-only ledger,
and reservations. Every write goes through `stock.services`, as the API's do.
"""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from catalog.models import SKU
from inventory_site.admin import (
    DeletedListFilter, ServiceAdminMixin, ServiceFormAdminMixin, VersionedAdminForm, run_service_per_row,
)
from inventory_site.exceptions import DomainError
from stock import services
from stock.models import (
    MovementReason, Reservation, ReservationLine, ReservationStatus, StockLevel, StockMovement, Warehouse,
)
from stock.selectors import reservation_status, reservations_with_status, stock_level_list


def _sku_link(sku):
    url = reverse("admin:catalog_sku_change", args=[sku.pk])
    return format_html('<a href="{}">{}</a>', url, sku.sku_code)


# --- warehouses ------------------------------------------------------------------------

class WarehouseForm(VersionedAdminForm):
    class Meta:
        model = Warehouse
        fields = ["code", "name", "is_active", "is_default"]

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()


@admin.register(Warehouse)
class WarehouseAdmin(ServiceAdminMixin, SimpleHistoryAdmin):
    class Media:
        css = {"all": ["admin-ext/admin-ext.css"]}

    form = WarehouseForm
    list_display = ("code", "name", "is_active", "is_default", "levels_link", "is_deleted")
    list_filter = (DeletedListFilter, "is_active")
    search_fields = ("code", "name")
    readonly_fields = ("version", "is_deleted", "deleted_at", "created_at", "updated_at")
    fields = ("code", "name", "is_active", "is_default", "expected_version", *readonly_fields)

    def get_queryset(self, request):
        return Warehouse.all_objects.all()

    @admin.display(description="stock")
    def levels_link(self, warehouse):
        url = reverse("admin:stock_stocklevel_changelist") + f"?warehouse__id__exact={warehouse.pk}"
        return format_html('<a href="{}">levels &rsaquo;</a>', url)

    def save_model(self, request, obj, form, change):
        data = {k: form.cleaned_data[k] for k in ("code", "name", "is_active", "is_default")}
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


# --- stock levels and the "Adjust stock" form -------------------------------------------

class LowStockFilter(admin.SimpleListFilter):
    title = "low stock"
    parameter_name = "low"

    def lookups(self, request, model_admin):
        return [("yes", "At or below threshold"), ("no", "Above threshold")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            # Low as read implies low by the stored quantities: test the cheap condition first.
            return queryset.filter(on_hand__lte=F("reserved") + F("low_stock_threshold"), effective_is_low=True)
        if self.value() == "no":
            return queryset.filter(effective_is_low=False)
        return queryset


class StockLevelForm(VersionedAdminForm):
    """Only the low-stock threshold is edited here; quantities change through adjustments."""

    class Meta:
        model = StockLevel
        fields = ["low_stock_threshold"]


class AdjustStockForm(forms.Form):
    """One adjustment: a signed change or a new count, with its reason and reference."""

    MODES = [("delta", "Change on hand by (+/-)"), ("count", "Set on hand to (cycle count)")]

    sku_code = forms.CharField(label="SKU code", max_length=50)
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.filter(is_active=True), empty_label=None)
    mode = forms.ChoiceField(choices=MODES, widget=forms.RadioSelect, initial="delta")
    amount = forms.IntegerField(
        help_text="For a change: units to add (negative to remove). For a count: the units counted.",
        min_value=-services.MAX_QUANTITY, max_value=services.MAX_QUANTITY,
    )
    expected_on_hand = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.ChoiceField(
        choices=[(r.value, r.label) for r in services.ADJUSTMENT_REASONS], initial=MovementReason.CORRECTION,
    )
    reference = forms.CharField(max_length=100, required=False, help_text="PO, order or count sheet number.")
    note = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_sku_code(self):
        code = self.cleaned_data["sku_code"].strip()
        sku = SKU.objects.filter(sku_code__iexact=code).first()
        if sku is None:
            raise forms.ValidationError(f"No active SKU with code {code!r}.")
        self.cleaned_data["sku"] = sku
        return sku.sku_code

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("mode") == "delta" and cleaned.get("amount") == 0:
            self.add_error("amount", "A change of 0 changes nothing.")
        if cleaned.get("mode") == "count" and (cleaned.get("amount") or 0) < 0:
            self.add_error("amount", "A count cannot be negative.")
        return cleaned


@admin.register(StockLevel)
class StockLevelAdmin(ServiceFormAdminMixin, admin.ModelAdmin):
    class Media:
        css = {"all": ["admin-ext/admin-ext.css"]}

    form = StockLevelForm
    change_list_template = "admin/stock/stocklevel/change_list.html"
    list_display = (
        "sku_link", "product", "warehouse", "on_hand", "reserved_now", "available_now",
        "low_stock_threshold", "status", "adjust_link",
    )
    list_filter = (LowStockFilter, "warehouse")
    list_select_related = ("sku__product", "warehouse")
    search_fields = ("sku__sku_code", "sku__product__name")
    list_per_page = 100
    show_full_result_count = False
    fields = ("sku_link", "warehouse", "on_hand", "reserved_now", "available_now", "low_stock_threshold",
              "expected_version", "movements_link")
    readonly_fields = ("sku_link", "warehouse", "on_hand", "reserved_now", "available_now", "movements_link")

    def get_queryset(self, request):
        return stock_level_list().select_related("sku__product")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_adjust_permission(self, request):
        return request.user.has_perm("stock.adjust_stock")

    @admin.display(description="SKU", ordering="sku__sku_code")
    def sku_link(self, level):
        return _sku_link(level.sku)

    @admin.display(description="product", ordering="sku__product__name")
    def product(self, level):
        return level.sku.product.name

    @admin.display(description="reserved", ordering="effective_reserved")
    def reserved_now(self, level):
        return level.effective_reserved

    @admin.display(description="available", ordering="effective_available")
    def available_now(self, level):
        return level.effective_available

    @admin.display(description="stock")
    def status(self, level):
        if level.effective_available <= 0:
            css, label = "out", "Out"
        elif level.effective_is_low:
            css, label = "low", "Low"
        else:
            css, label = "in", "OK"
        return format_html('<span class="stock-status {}">{}</span>', css, label)

    @admin.display(description="")
    def adjust_link(self, level):
        url = reverse("admin:stock_stocklevel_adjust_level", args=[level.pk])
        return format_html('<a class="button" href="{}">Adjust</a>', url)

    @admin.display(description="movements")
    def movements_link(self, level):
        url = reverse("admin:stock_stockmovement_changelist") + (
            f"?sku__id__exact={level.sku_id}&warehouse__id__exact={level.warehouse_id}"
        )
        return format_html('<a href="{}">ledger of this level &rsaquo;</a>', url)

    def save_model(self, request, obj, form, change):
        services.stock_level_update_threshold(
            level=obj, low_stock_threshold=form.cleaned_data["low_stock_threshold"],
            expected_version=form.cleaned_data["expected_version"], user=request.user,
        )
        obj.refresh_from_db()

    def get_urls(self):
        extra = [
            path("adjust/", self.admin_site.admin_view(self.adjust_view), name="stock_stocklevel_adjust"),
            path("<int:level_id>/adjust/", self.admin_site.admin_view(self.adjust_view),
                 name="stock_stocklevel_adjust_level"),
        ]
        return extra + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_adjust": self.has_adjust_permission(request)}
        return super().changelist_view(request, extra_context)

    def adjust_view(self, request, level_id=None):
        """The "Adjust stock" form: calls `stock_adjust`, which writes the movement."""
        if not self.has_adjust_permission(request):
            raise PermissionDenied
        level = get_object_or_404(stock_level_list(), pk=level_id) if level_id else None
        initial = {}
        if level is not None:
            initial = {"sku_code": level.sku.sku_code, "warehouse": level.warehouse, "expected_on_hand": level.on_hand}
        elif request.GET.get("sku"):
            initial = {"sku_code": request.GET["sku"]}
        form = AdjustStockForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            amount = {"delta": data["amount"]} if data["mode"] == "delta" else {
                "quantity": data["amount"], "expected_on_hand": data.get("expected_on_hand"),
            }
            try:
                movement, after = services.stock_adjust(
                    sku=data["sku"], warehouse=data["warehouse"], reason=data["reason"],
                    reference=data["reference"], note=data["note"], user=request.user, **amount,
                )
            except DomainError as exc:
                detail = f" {exc.errors}" if exc.errors else ""
                form.add_error(None, f"Not adjusted: {exc.message}{detail}")
            else:
                if movement is None:
                    self.message_user(request, f"The count matches: {after.on_hand} on hand, nothing changed.")
                else:
                    self.message_user(
                        request,
                        f"Stock adjusted: {movement.delta:+d} ({movement.get_reason_display()}) for "
                        f"{data['sku'].sku_code} at {data['warehouse'].code}; now {after.on_hand} on hand.",
                        messages.SUCCESS,
                    )
                return redirect(
                    reverse("admin:stock_stockmovement_changelist") + f"?sku__id__exact={data['sku'].pk}"
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts, "title": "Adjust stock", "form": form, "level": level,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/stock/stocklevel/adjust.html", context)


# --- the ledger --------------------------------------------------------------------------

@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: the ledger is append-only."""

    class Media:
        css = {"all": ["admin-ext/admin-ext.css"]}


    list_display = (
        "created_at", "sku_link", "warehouse", "signed_delta", "reason", "balance_after",
        "reference", "reservation_link", "created_by",
    )
    list_filter = ("reason", "warehouse", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("sku", "warehouse", "reservation", "created_by")
    search_fields = ("reference", "sku__sku_code")
    list_per_page = 100
    show_full_result_count = False
    fields = ("created_at", "sku_link", "warehouse", "delta", "reason", "balance_after", "reference", "note",
              "reservation_link", "created_by")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="SKU", ordering="sku__sku_code")
    def sku_link(self, movement):
        return _sku_link(movement.sku)

    @admin.display(description="change", ordering="delta")
    def signed_delta(self, movement):
        return f"{movement.delta:+d}"

    @admin.display(description="reservation")
    def reservation_link(self, movement):
        if movement.reservation_id is None:
            return "-"
        url = reverse("admin:stock_reservation_change", args=[movement.reservation_id])
        return format_html('<a href="{}">{}</a>', url, movement.reservation.reference)


# --- reservations ----------------------------------------------------------------------

class ReservationStatusFilter(admin.SimpleListFilter):
    """The status as read: an overdue active reservation counts as expired."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return ReservationStatus.choices

    def queryset(self, request, queryset):
        if self.value() in ReservationStatus.values:
            return reservations_with_status(queryset, self.value())
        return queryset


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    fields = ("sku", "warehouse", "quantity")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Reservation)
class ReservationAdmin(admin.ModelAdmin):
    class Media:
        css = {"all": ["admin-ext/admin-ext.css"]}

    list_display = ("reference", "status_now", "expires_at", "lines_summary", "created_at", "created_by")
    list_filter = (ReservationStatusFilter,)
    search_fields = ("reference",)
    list_select_related = ("created_by",)
    list_per_page = 100
    show_full_result_count = False
    inlines = [ReservationLineInline]
    fields = ("reference", "status_now", "expires_at", "created_at", "created_by")
    readonly_fields = fields
    actions = ["release_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines__sku", "lines__warehouse")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_release_permission(self, request):
        return request.user.has_perm("stock.release_reservation")

    @admin.display(description="status", ordering="status")
    def status_now(self, reservation):
        status = reservation_status(reservation)
        css = {"active": "in", "committed": "none", "released": "none", "expired": "out"}[status]
        return format_html('<span class="stock-status {}">{}</span>', css, ReservationStatus(status).label)

    @admin.display(description="lines")
    def lines_summary(self, reservation):
        return format_html_join(
            ", ", "{} &times; {} @ {}",
            ((line.quantity, line.sku.sku_code, line.warehouse.code) for line in reservation.lines.all()),
        )

    @admin.action(description="Release selected (give the units back)", permissions=["release"])
    def release_selected(self, request, queryset):
        run_service_per_row(
            self, request, queryset,
            lambda user, obj: services.reservation_release(reservation=obj, user=user), "Released",
        )
