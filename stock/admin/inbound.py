"""Inbound shipments: drafts with their lines, open/cancel actions, a receive screen, history;
and the reorder suggestions screen that makes drafts. Every write goes through
`stock.services` (`inbound_*`, `reorder_drafts_create`), as the API's do."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from catalog.models import SKU
from inventory_site.admin import (
    ServiceFormAdminMixin,
    VersionedAdminForm,
    run_service_per_row,
)
from inventory_site.exceptions import DomainError, InvalidInput
from inventory_site.refusals import detail_text, refusal_text
from stock import services
from stock.exceptions import InboundNotOpen
from stock.models import (
    INBOUND_OPEN_STATUSES,
    InboundLine,
    InboundShipment,
    InboundStatus,
    StockLevel,
    StockState,
    Warehouse,
)
from stock.selectors_reorder import reorder_suggestions


class InboundShipmentForm(VersionedAdminForm):
    class Meta:
        model = InboundShipment
        fields = ["reference", "supplier", "warehouse", "expected_at", "note"]


class InboundLineInline(admin.TabularInline):
    """The expected lines: editable while the shipment is a draft."""

    model = InboundLine
    fields = ("sku", "quantity_expected", "quantity_received")
    readonly_fields = ("quantity_received",)
    autocomplete_fields = ("sku",)
    extra = 1

    def _draft(self, obj) -> bool:
        return obj is None or obj.status == InboundStatus.DRAFT

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if self._draft(obj) else 0

    def has_add_permission(self, request, obj=None):
        return self._draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._draft(obj) and super().has_delete_permission(request, obj)


# The state words a receipt line may end with ("qc" is quicker to type than quality_control).
RECEIPT_STATES = {
    "sellable": StockState.SELLABLE,
    "damaged": StockState.DAMAGED,
    "qc": StockState.QUALITY_CONTROL,
    "quality_control": StockState.QUALITY_CONTROL,
}


class ReceiveForm(forms.Form):
    """One row per expected line (quantity received now, the state it arrives in), and codes as a
    scanner types them (`CODE QUANTITY [STATE]`, one per line) for goods the rows do not list."""

    lines = forms.CharField(
        label="Or scan codes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="One line each: SKU code, quantity, and optionally damaged or qc (quality control) "
        '(e.g. "TSHIRT-RED-M 12" or "TSHIRT-RED-M 2 damaged"). A code alone counts 1 (a scan).',
    )
    allow_over_receipt = forms.BooleanField(required=False, label="Accept more than expected")
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, expected=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = list(expected)
        states = [(value, label) for value, label in StockState.choices]
        for line in self.expected:
            self.fields[f"received_{line.pk}"] = forms.IntegerField(
                label=line.sku.sku_code,
                required=False,
                min_value=0,
                max_value=services.MAX_QUANTITY,
                widget=forms.NumberInput(attrs={"class": "receive-quantity", "placeholder": "0"}),
            )
            self.fields[f"state_{line.pk}"] = forms.ChoiceField(
                label="state", choices=states, required=False, initial=StockState.SELLABLE
            )

    def rows(self):
        """`(expected line, quantity box, state box)` for the template."""
        return [(line, self[f"received_{line.pk}"], self[f"state_{line.pk}"]) for line in self.expected]

    def clean_lines(self):
        parsed, errors = [], []
        for number, text in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            parts = text.split()
            if not parts:
                continue
            quantity, state = 1, StockState.SELLABLE
            if len(parts) > 3:
                errors.append(f"Line {number}: write CODE QUANTITY [STATE].")
                continue
            if len(parts) >= 2:
                if not parts[1].isdigit() or not 1 <= int(parts[1]) <= services.MAX_QUANTITY:
                    errors.append(f"Line {number}: {parts[1]!r} is not a quantity.")
                    continue
                quantity = int(parts[1])
            if len(parts) == 3:
                named = RECEIPT_STATES.get(parts[2].lower())
                if named is None:
                    errors.append(
                        f"Line {number}: {parts[2]!r} is not a state; write damaged, qc (quality control) or sellable."
                    )
                    continue
                state = named
            sku = SKU.objects.filter(sku_code__iexact=parts[0]).first()
            if sku is None:
                errors.append(f"Line {number}: no active SKU with code {parts[0]}.")
                continue
            parsed.append(services.ReceiptLine(sku=sku, quantity=quantity, state=state))
        if errors:
            raise forms.ValidationError(errors)
        return parsed

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        rows = [
            services.ReceiptLine(
                sku=line.sku,
                quantity=cleaned[f"received_{line.pk}"],
                state=cleaned.get(f"state_{line.pk}") or StockState.SELLABLE,
            )
            for line in self.expected
            if cleaned.get(f"received_{line.pk}")
        ]
        if "lines" in cleaned:
            cleaned["lines"] = rows + cleaned["lines"]
            if not cleaned["lines"] and not self.errors:
                raise forms.ValidationError("Fill in a quantity received (or scan at least one code).")
        return cleaned


@admin.register(InboundShipment)
class InboundShipmentAdmin(ServiceFormAdminMixin, SimpleHistoryAdmin):
    form = InboundShipmentForm
    inlines = [InboundLineInline]
    list_display = ("reference", "supplier", "warehouse", "status", "expected_at", "lines_summary", "receive_link")
    list_filter = ("status", "warehouse")
    search_fields = ("reference", "supplier")
    list_select_related = ("warehouse",)
    readonly_fields = ("status", "version", "created_at", "updated_at")
    actions = ["open_selected", "cancel_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines__sku")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """A "Receive" button on an open shipment's page, for those who may receive."""
        shipment = self.get_object(request, object_id)
        open_now = shipment is not None and shipment.status in INBOUND_OPEN_STATUSES
        draft = shipment is not None and shipment.status == InboundStatus.DRAFT
        extra_context = {
            **(extra_context or {}),
            "can_receive": open_now and self.has_receive_permission(request),
            "can_open": draft and self.has_change_permission(request, shipment),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        """A "Reorder suggestions" button for those who may make drafts from them."""
        extra_context = {**(extra_context or {}), "can_reorder": request.user.has_perm("stock.add_inboundshipment")}
        return super().changelist_view(request, extra_context)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != InboundStatus.DRAFT:
            return ("reference", "supplier", "warehouse", "expected_at", "note", *self.readonly_fields)
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead: the ledger refers to received shipments

    def has_receive_permission(self, request, obj=None):
        return request.user.has_perm("stock.receive_inboundshipment")

    @admin.display(description="lines")
    def lines_summary(self, shipment):
        return format_html_join(
            ", ",
            "{} {}/{}",
            ((ln.sku.sku_code, ln.quantity_received, ln.quantity_expected) for ln in shipment.lines.all()),
        )

    @admin.display(description="")
    def receive_link(self, shipment):
        if shipment.status not in INBOUND_OPEN_STATUSES:
            return ""
        return format_html(
            '<a href="{}">Receive</a>', reverse("admin:stock_inboundshipment_receive", args=[shipment.pk])
        )

    # -- writes, all through stock.services ----------------------------------------------
    def save_model(self, request, obj, form, change):
        pass  # saved with its lines in save_related, through one service call

    def save_formset(self, request, form, formset, change):
        pass  # the lines are part of the service call in save_related

    def save_related(self, request, form, formsets, change):
        data = form.cleaned_data
        fields = {
            name: data[name] for name in ("reference", "supplier", "warehouse", "expected_at", "note") if name in data
        }
        lines = None
        for formset in formsets:
            # What formset.save() would leave for the admin's change message: the service saves the lines.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            if formset.model is InboundLine:
                lines = [
                    services.InboundLineInput(sku=row["sku"], quantity_expected=row["quantity_expected"])
                    for row in formset.cleaned_data
                    if row and not row.get("DELETE") and row.get("sku")
                ]
        if change:
            if form.instance.status != InboundStatus.DRAFT:
                return
            saved = services.inbound_update(
                shipment=form.instance.pk,
                expected_version=data.get("expected_version"),
                lines=lines,
                user=request.user,
                **fields,
            )
        else:
            saved = services.inbound_create(lines=lines or [], user=request.user, **fields)
        form.instance.__dict__.update(saved.__dict__)

    @admin.action(description="Open selected (count them as incoming)", permissions=["change"])
    def open_selected(self, request, queryset):
        run_service_per_row(
            self,
            request,
            queryset,
            lambda user, obj: services.inbound_open(shipment=obj, user=user),
            "Opened",
            describe=refusal_words,
        )

    @admin.action(description="Cancel selected", permissions=["change"])
    def cancel_selected(self, request, queryset):
        run_service_per_row(
            self,
            request,
            queryset,
            lambda user, obj: services.inbound_cancel(shipment=obj, user=user),
            "Cancelled",
            describe=refusal_words,
        )

    # -- the receive and reorder screens -------------------------------------------------
    def get_urls(self):
        extra = [
            path(
                "<int:pk>/receive/", self.admin_site.admin_view(self.receive_view), name="stock_inboundshipment_receive"
            ),
            path("reorder/", self.admin_site.admin_view(self.reorder_view), name="stock_inboundshipment_reorder"),
            path(
                "<int:pk>/open/",
                self.admin_site.admin_view(require_POST(self.open_view)),
                name="stock_inboundshipment_open",
            ),
        ]
        return extra + super().get_urls()

    def _context(self, request, title, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **extra}

    def open_view(self, request, pk):
        """A draft opened from its own page (`inbound_open`): its lines count as incoming."""
        shipment = get_object_or_404(InboundShipment, pk=pk)
        if not self.has_change_permission(request, shipment):
            raise PermissionDenied("stock.change_inboundshipment")
        try:
            shipment = services.inbound_open(shipment=shipment, user=request.user)
        except DomainError as exc:
            self.message_user(request, f"Not opened: {refusal_words(exc)}", messages.ERROR)
        else:
            self.log_change(request, shipment, "Opened.")
            self.message_user(
                request, f"Opened {shipment.reference}: its lines count as incoming stock.", messages.SUCCESS
            )
        return redirect(reverse("admin:stock_inboundshipment_change", args=[pk]))

    def receive_view(self, request, pk):
        """Calls `inbound_receive`: all lines or none; a refusal is shown on the form."""
        if not self.has_receive_permission(request):
            raise PermissionDenied("stock.receive_inboundshipment")
        shipment = get_object_or_404(InboundShipment.objects.select_related("warehouse"), pk=pk)
        lines = list(shipment.lines.select_related("sku__product").order_by("sku__sku_code"))
        form = ReceiveForm(request.POST or None, expected=lines if shipment.status in INBOUND_OPEN_STATUSES else [])
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                shipment, movements, _levels = services.inbound_receive(
                    shipment=shipment,
                    lines=data["lines"],
                    allow_over_receipt=data["allow_over_receipt"],
                    note=data["note"],
                    user=request.user,
                )
            except DomainError as exc:
                form.add_error(None, f"Nothing received: {_receipt_refusal(exc, data['lines'])}")
            else:
                units = sum(m.delta for m in movements)
                self.log_change(request, shipment, f"Received {units} units ({len(movements)} lines).")
                self.message_user(
                    request,
                    f"Received {units} units into {shipment.warehouse.name}; "
                    f"{shipment.reference} is now {shipment.get_status_display().lower()}.",
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:stock_inboundshipment_change", args=[shipment.pk]))
        return TemplateResponse(
            request,
            "admin/stock/inboundshipment/receive.html",
            self._context(
                request, f"Receive {shipment.reference}", form=form, shipment=shipment, lines=lines, media=self.media
            ),
        )

    def reorder_view(self, request):
        """Reorder suggestions; the selected ones of one warehouse become a draft (`reorder_drafts_create`)."""
        if not request.user.has_perm("stock.add_inboundshipment"):
            raise PermissionDenied("stock.add_inboundshipment")
        suggestions = list(reorder_suggestions())
        form = ReorderForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            level_ids = [int(pk) for pk in request.POST.getlist("level") if pk.isdigit()] or None
            try:
                shipment = services.reorder_drafts_create(
                    supplier=data["supplier"],
                    warehouse=data["warehouse"],
                    level_ids=level_ids,
                    user=request.user,
                )
            except DomainError as exc:
                form.add_error(
                    None, f"No draft made: {_reorder_refusal(exc, level_ids, data['warehouse'], suggestions)}"
                )
            else:
                self.log_addition(request, shipment, "Made from reorder suggestions.")
                self.message_user(
                    request, f"Draft {shipment.reference} made; check it, then open it.", messages.SUCCESS
                )
                return redirect(reverse("admin:stock_inboundshipment_change", args=[shipment.pk]))
        return TemplateResponse(
            request,
            "admin/stock/inboundshipment/reorder.html",
            self._context(request, "Reorder suggestions", form=form, suggestions=suggestions, media=self.media),
        )


class ReorderForm(forms.Form):
    supplier = forms.CharField(max_length=200)
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.all(), empty_label=None)


def _field_texts(errors) -> list[str]:
    """The sentences of a `{"field": ["sentence", ...]}` detail, or [] when it is not one."""
    if not isinstance(errors, dict) or not errors:
        return []
    if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in errors.values()):
        return []
    return [text for texts in errors.values() for text in texts]


def refusal_words(exc: DomainError) -> str:
    """A refusal as staff read it: the rule's own sentences, never a status value or a dict."""
    if isinstance(exc, InboundNotOpen):
        return exc.message  # "A received shipment cannot be cancelled."
    return " ".join(_field_texts(exc.errors)) or refusal_text(exc)


def _receipt_refusal(exc: DomainError, lines) -> str:
    """The service's refusal, with refused lines named by their SKU code."""
    per_line = (exc.errors or {}).get("lines") if isinstance(exc.errors, dict) else None
    if not isinstance(per_line, dict):
        return refusal_words(exc)
    named, over = [], False
    for index, detail in sorted(per_line.items(), key=lambda item: int(item[0])):
        code = lines[int(index)].sku.sku_code
        if isinstance(detail, dict) and "quantity_expected" in detail:
            over = True
            text = (
                f"{code}: {detail['requested']} more would pass the {detail['quantity_expected']} expected "
                f"({detail['quantity_received']} received)"
            )
        else:
            text = f"{code}: {' '.join(_field_texts(detail)) or detail_text(detail)}".rstrip(".")
        if text not in named:
            named.append(text)
    head = 'More than the shipment expects (tick "Accept more than expected" to take it). ' if over else ""
    return head + "; ".join(named) + "."


def _reorder_refusal(exc: DomainError, level_ids, warehouse, suggestions) -> str:
    """Why no draft was made, naming ticked levels by SKU and warehouse (never by id)."""
    if level_ids and isinstance(exc, InvalidInput):
        ours = {level.pk for level in suggestions if level.warehouse_id == warehouse.pk}
        others = [pk for pk in level_ids if pk not in ours]
        if others:
            named = [
                str(level)
                for level in StockLevel.objects.select_related("sku", "warehouse")
                .filter(pk__in=others)
                .order_by("sku__sku_code")
            ]
            if named:
                return (
                    f"{', '.join(named)} {'is' if len(named) == 1 else 'are'} not a reorder suggestion for "
                    f"{warehouse.name}. Tick the suggestions of one warehouse (or none: all of it)."
                )
            return "A ticked line is no longer a reorder suggestion; reload the page and tick again."
    return refusal_words(exc)
