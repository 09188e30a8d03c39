"""Stock levels: every quantity state read-only, the settings (threshold, safety stock, reorder
point and quantity) editable through `stock_level_update_settings`, and the "Adjust stock"
form that calls `stock_adjust` as the API does, so every change writes a movement."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from inventory_site.admin import DeletedListFilter, ServiceFormAdminMixin, VersionedAdminForm
from inventory_site.exceptions import DomainError
from inventory_site.refusals import refusal_text
from inventory_site.templatetags.backoffice import quantity
from stock import services
from stock.admin.clerk import ClerkViewsMixin, SKUCodeFormMixin, sku_code_field
from stock.admin.level_settings import LevelSettingsActionMixin
from stock.admin.states import StateMoveViewsMixin
from stock.models import StockLevel, Warehouse
from stock.selectors import stock_level_list, stock_levels_in_stock, stock_levels_low, stock_status

LEVEL_STATUS_LABELS = {"out": "Out", "low": "Low", "in": "OK"}


def sku_link(sku):
    """The SKU's code, linked to its change form."""
    url = reverse("admin:catalog_sku_change", args=[sku.pk])
    return format_html('<a href="{}">{}</a>', url, sku.sku_code)


def level_buttons(level, *, adjust: bool, move_state: bool):
    """A level row's "Adjust" and "Move state" buttons (those the user may use)."""
    buttons = []
    if adjust:
        buttons.append(("Adjust", reverse("admin:stock_stocklevel_adjust_level", args=[level.pk])))
    if move_state:
        buttons.append(("Move state", reverse("admin:stock_stocklevel_state_move_level", args=[level.pk])))
    return format_html_join(" ", '<a class="button" href="{1}">{0}</a>', buttons)


class LowStockFilter(admin.SimpleListFilter):
    title = "low stock"
    parameter_name = "low"

    def lookups(self, request, model_admin):
        return [("yes", "At or below threshold"), ("no", "Above threshold")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return stock_levels_low(queryset, self.value() == "yes")
        return queryset


class AvailableFilter(admin.SimpleListFilter):
    title = "available"
    parameter_name = "available"

    def lookups(self, request, model_admin):
        return [("none", "Nothing available"), ("some", "Some available")]

    def queryset(self, request, queryset):
        if self.value() in ("none", "some"):
            return stock_levels_in_stock(queryset, self.value() == "some")
        return queryset


class SKUDeletedFilter(DeletedListFilter):
    """Levels of active SKUs by default (as the dashboard counts them); of deleted ones on request."""

    title = "SKU deleted"
    parameter_name = "sku_deleted"

    def lookups(self, request, model_admin):
        return [("active", "Active SKUs"), ("deleted", "Deleted SKUs"), ("all", "All")]

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return queryset.filter(sku__is_deleted=self.value() == "deleted")


class StockLevelForm(VersionedAdminForm):
    """Only the settings are edited here; quantities change through adjustments and state moves."""

    class Meta:
        model = StockLevel
        fields = ["low_stock_threshold", "safety_stock", "reorder_point", "reorder_quantity"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["safety_stock"].required = False  # empty: unchanged


class AdjustStockForm(SKUCodeFormMixin, forms.Form):
    """One adjustment: a signed change or a new count, with its reason and reference."""

    MODES = [("delta", "Change on hand by (+/-)"), ("count", "Set on hand to (cycle count)")]

    sku_code = sku_code_field()
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.filter(is_active=True), empty_label=None)
    mode = forms.ChoiceField(choices=MODES, widget=forms.RadioSelect, initial="delta")
    amount = forms.IntegerField(
        help_text="For a change: units to add (negative to remove). For a count: the units counted.",
    )
    expected_on_hand = forms.IntegerField(required=False, widget=forms.HiddenInput)
    from_state = forms.ChoiceField(
        label="Units from",
        required=False,
        choices=[("", "Sellable stock")] + [(s.value, f"{s.label} (write off)") for s in services.WRITE_OFF_STATES],
        help_text="To write off damaged or quality-control units: choose their state, a negative change and "
        "reason Damage. On hand and that state drop together; available does not change.",
    )
    reason = forms.ChoiceField(choices=[("", "---------")] + [(r.value, r.label) for r in services.ADJUSTMENT_REASONS])
    reference = forms.CharField(max_length=100, required=False, help_text="PO, order or count sheet number.")
    note = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def add_service_error(self, exc: DomainError, *, where: str) -> None:
        """Show what `stock_adjust` refused: on the amount when it names the delta or the count,
        else as a sentence naming the level (`where`)."""
        fields = exc.errors if isinstance(exc.errors, dict) else {}
        named = {"delta": "amount", "quantity": "amount", "from_state": "from_state", "reason": "reason"}
        if fields and set(fields) <= set(named) and all(isinstance(v, list) for v in fields.values()):
            for key, messages_ in fields.items():
                self.add_error(named[key], messages_)
            return
        self.add_error(None, f"Not adjusted ({where}): {refusal_text(exc)}")


@admin.register(StockLevel)
class StockLevelAdmin(
    LevelSettingsActionMixin, StateMoveViewsMixin, ClerkViewsMixin, ServiceFormAdminMixin, admin.ModelAdmin
):
    class Media:
        css = {"all": ["admin-ext/admin-ext.css"]}

    form = StockLevelForm
    change_list_template = "admin/stock/stocklevel/change_list.html"
    # The figures a clerk reads first; damaged, quality control, safety stock, backordered and the
    # settings are on the level's page.
    list_display = (
        "sku_and_product",
        "warehouse_code",
        "on_hand_now",
        "available_now",
        "reserved_now",
        "incoming_now",
        "status",
        "adjust_link",
    )
    list_filter = (LowStockFilter, AvailableFilter, "warehouse", SKUDeletedFilter)
    list_select_related = ("sku__product", "warehouse")
    search_fields = ("sku__sku_code", "sku__product__name")
    list_per_page = 100
    show_full_result_count = False
    actions = ["set_level_settings"]
    fields = (
        "sku_link",
        "warehouse",
        "on_hand",
        "reserved_now",
        "damaged",
        "quality_control",
        "sellable_now",
        "available_now",
        "incoming",
        "backordered",
        "low_stock_threshold",
        "safety_stock",
        "reorder_point",
        "reorder_quantity",
        "expected_version",
        "movements_link",
    )
    readonly_fields = (
        "sku_link",
        "warehouse",
        "on_hand",
        "reserved_now",
        "damaged",
        "quality_control",
        "sellable_now",
        "available_now",
        "incoming",
        "backordered",
        "movements_link",
    )

    def get_queryset(self, request):
        return stock_level_list().select_related("sku__product")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def lookup_allowed(self, lookup, value, request=None):
        """The dashboard's "all warehouses" figures list the levels of the active warehouses."""
        return lookup == "warehouse__is_active__exact" or super().lookup_allowed(lookup, value, request)

    def get_ordering(self, request):
        """Emptiest first when the list shows levels short of stock (the dashboard's links)."""
        if (
            request.GET.get(LowStockFilter.parameter_name) == "yes"
            or request.GET.get(AvailableFilter.parameter_name) == "none"
        ):
            return ("effective_available", "sku__sku_code", "warehouse__code")
        return super().get_ordering(request)

    def has_adjust_permission(self, request):
        return request.user.has_perm("stock.adjust_stock")

    @admin.display(description="SKU", ordering="sku__sku_code")
    def sku_link(self, level):
        return sku_link(level.sku)

    @admin.display(description="SKU / product", ordering="sku__sku_code")
    def sku_and_product(self, level):
        """The level's SKU code (linked to the level's page by the list) over its product's name."""
        return format_html(
            '<span class="code">{}</span><br><span class="quiet">{}</span>', level.sku.sku_code, level.sku.product.name
        )

    @admin.display(description="warehouse", ordering="warehouse__code")
    def warehouse_code(self, level):
        """The code where space is short; the name on hover."""
        return format_html('<span title="{}">{}</span>', level.warehouse.name, level.warehouse.code)

    @admin.display(description="on hand", ordering="on_hand")
    def on_hand_now(self, level):
        return quantity(level.on_hand)

    @admin.display(description="reserved", ordering="effective_reserved")
    def reserved_now(self, level):
        return quantity(level.effective_reserved)

    @admin.display(description="available", ordering="effective_available")
    def available_now(self, level):
        return quantity(level.effective_available)

    @admin.display(description="incoming", ordering="incoming")
    def incoming_now(self, level):
        return quantity(level.incoming)

    @admin.display(description="sellable")
    def sellable_now(self, level):
        """On hand in no other state (what state moves and write-offs may take)."""
        return level.on_hand - level.effective_reserved - level.damaged - level.quality_control

    @admin.display(description="stock")
    def status(self, level):
        status = stock_status(level.effective_available, level.effective_is_low)
        return format_html('<span class="stock-status {}">{}</span>', status, LEVEL_STATUS_LABELS[status])

    @admin.display(description="")
    def adjust_link(self, level):
        return level_buttons(level, adjust=True, move_state=True)

    def get_list_display(self, request):
        """The row buttons the user may use ("Adjust", "Move state"), or none."""
        can_adjust, can_move = self.has_adjust_permission(request), self.has_move_state_permission(request)
        columns = [c for c in super().get_list_display(request) if c != "adjust_link"]
        if can_adjust or can_move:

            @admin.display(description="")
            def buttons(level):
                return level_buttons(level, adjust=can_adjust, move_state=can_move)

            columns.append(buttons)
        return columns

    @admin.display(description="movements")
    def movements_link(self, level):
        url = reverse("admin:stock_stockmovement_changelist") + (
            f"?sku__id__exact={level.sku_id}&warehouse__id__exact={level.warehouse_id}"
        )
        return format_html('<a href="{}">ledger of this level &rsaquo;</a>', url)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        services.stock_level_update_settings(
            level=obj,
            low_stock_threshold=data["low_stock_threshold"],
            safety_stock=data["safety_stock"],
            reorder_point=data["reorder_point"],
            reorder_quantity=data["reorder_quantity"],
            expected_version=data["expected_version"],
            user=request.user,
        )
        obj.refresh_from_db()

    def get_urls(self):
        extra = [
            path("adjust/", self.admin_site.admin_view(self.adjust_view), name="stock_stocklevel_adjust"),
            path(
                "<int:level_id>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="stock_stocklevel_adjust_level",
            ),
        ]
        return extra + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_adjust": self.has_adjust_permission(request),
            "can_transfer": request.user.has_perm("stock.transfer_stock"),
        }
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_adjust": self.has_adjust_permission(request),
            "can_transfer": request.user.has_perm("stock.transfer_stock"),
            "can_move_state": self.has_move_state_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def adjust_view(self, request, level_id=None):
        """The "Adjust stock" form: calls `stock_adjust`, which writes the movement."""
        if not self.has_adjust_permission(request):
            raise PermissionDenied("stock.adjust_stock")
        level = get_object_or_404(stock_level_list(), pk=level_id) if level_id else None
        initial = {}
        if level is not None:
            initial = {"sku_code": level.sku.sku_code, "warehouse": level.warehouse, "expected_on_hand": level.on_hand}
        elif request.GET.get("sku"):
            initial = {"sku_code": request.GET["sku"]}
        if request.GET.get("from_state"):
            initial["from_state"] = request.GET["from_state"]
        form = AdjustStockForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            amount = (
                {"delta": data["amount"]}
                if data["mode"] == "delta"
                else {
                    "quantity": data["amount"],
                    "expected_on_hand": data.get("expected_on_hand"),
                }
            )
            try:
                movement, after = services.stock_adjust(
                    sku=data["sku"],
                    warehouse=data["warehouse"],
                    reason=data["reason"],
                    from_state=data["from_state"],
                    reference=data["reference"],
                    note=data["note"],
                    user=request.user,
                    **amount,
                )
            except DomainError as exc:
                form.add_service_error(exc, where=f"{data['sku'].sku_code} at {data['warehouse'].name}")
            else:
                if movement is None:
                    self.message_user(request, f"The count matches: {after.on_hand} on hand, nothing changed.")
                else:
                    # "Recent actions" on the index and the level's history list it, like any admin edit.
                    self.log_change(
                        request,
                        after,
                        (
                            f"Adjusted by {movement.delta:+d} ({movement.get_reason_display()}"
                            f"{', ' + movement.reference if movement.reference else ''}); now {after.on_hand} on hand."
                        ),
                    )
                    what = (
                        f"Wrote off {-movement.delta} {movement.get_state_from_display().lower()} "
                        f"{'unit' if movement.delta == -1 else 'units'}"
                        if movement.state_from
                        else f"Stock adjusted: {movement.delta:+d}"
                    )
                    self.message_user(
                        request,
                        f"{what} ({movement.get_reason_display()}) for {data['sku'].sku_code} at "
                        f"{data['warehouse'].name}; now {after.on_hand} on hand, {after.damaged} damaged, "
                        f"{after.quality_control} in quality control, {after.available} available.",
                        messages.SUCCESS,
                    )
                return redirect(reverse("admin:stock_stockmovement_changelist") + f"?sku__id__exact={data['sku'].pk}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Adjust stock",
            "form": form,
            "level": level,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/stock/stocklevel/adjust.html", context)
