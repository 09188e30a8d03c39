"""The stock clerk's state-move screen on the stock levels admin: units of one level moved
between sellable, damaged and quality control, through `stock_state_move` as the API does."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from inventory_site.exceptions import DomainError
from inventory_site.mixin_bases import ModelAdminMixinBase
from inventory_site.refusals import refusal_text
from stock import services
from stock.admin.clerk import SKUCodeFormMixin, sku_code_field
from stock.exceptions import InsufficientStock
from stock.models import MovementReason, StockState, Warehouse
from stock.selectors import stock_level_list


class StateMoveForm(SKUCodeFormMixin, forms.Form):
    """Units of one SKU at one warehouse from one state to another; on hand does not change."""

    sku_code = sku_code_field()
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.all(), empty_label=None)
    quantity = forms.IntegerField(min_value=1, max_value=services.MAX_QUANTITY)
    from_state = forms.ChoiceField(
        label="From",
        choices=StockState.choices,
        initial=StockState.SELLABLE,
        help_text="Sellable: on hand and not reserved, damaged or in quality control.",
    )
    to_state = forms.ChoiceField(label="To", choices=StockState.choices, initial=StockState.DAMAGED)
    reason = forms.ChoiceField(
        choices=[(r.value, r.label) for r in services.STATE_MOVE_REASONS],
        initial=MovementReason.DAMAGE,
    )
    reference = forms.CharField(max_length=100, required=False, help_text="Inspection or damage report number.")
    note = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("from_state") and cleaned.get("from_state") == cleaned.get("to_state"):
            self.add_error("to_state", "Choose a state other than the one the units leave.")
        return cleaned

    def add_service_error(self, exc: DomainError, *, where: str) -> None:
        """What `stock_state_move` refused: on the field it names, else as a sentence."""
        fields = exc.errors if isinstance(exc.errors, dict) else {}
        if isinstance(exc, InsufficientStock) and "in_state" in fields:
            state = StockState(fields["state"]).label.lower()
            self.add_error(
                None,
                f"Not moved ({where}): only {fields['in_state']} {_units(fields['in_state'])} "
                f"{'in ' if fields['state'] == StockState.QUALITY_CONTROL else ''}{state} "
                f"({fields['requested']} requested).",
            )
            return
        named = {"quantity": "quantity", "from": "from_state", "to": "to_state", "reason": "reason"}
        placed = False
        for key, field in named.items():
            if isinstance(fields.get(key), list):
                self.add_error(field, fields[key])
                placed = True
        if not placed:
            self.add_error(None, f"Not moved ({where}): {refusal_text(exc)}")


def _units(count: int) -> str:
    return "unit is" if count == 1 else "units are"


class StateMoveViewsMixin(ModelAdminMixinBase):
    """Adds the "Move between states" screen (all levels, or one) to `StockLevelAdmin`."""

    def get_urls(self):
        extra = [
            path("state-move/", self.admin_site.admin_view(self.state_move_view), name="stock_stocklevel_state_move"),
            path(
                "<int:level_id>/state-move/",
                self.admin_site.admin_view(self.state_move_view),
                name="stock_stocklevel_state_move_level",
            ),
        ]
        return extra + super().get_urls()

    def has_move_state_permission(self, request) -> bool:
        return request.user.has_perm("stock.move_stock_state")

    def state_move_view(self, request, level_id=None):
        """Calls `stock_state_move`, which writes the movement (delta 0, the two states)."""
        if not self.has_move_state_permission(request):
            raise PermissionDenied("stock.move_stock_state")
        level = get_object_or_404(stock_level_list(), pk=level_id) if level_id else None
        initial = (
            {"sku_code": level.sku.sku_code, "warehouse": level.warehouse}
            if level
            else {"sku_code": request.GET.get("sku", "")}
        )
        form = StateMoveForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            where = f"{data['sku'].sku_code} at {data['warehouse'].name}"
            try:
                movement, after = services.stock_state_move(
                    sku=data["sku"],
                    warehouse=data["warehouse"],
                    quantity=data["quantity"],
                    from_state=data["from_state"],
                    to_state=data["to_state"],
                    reason=data["reason"],
                    reference=data["reference"],
                    note=data["note"],
                    user=request.user,
                )
            except DomainError as exc:
                form.add_service_error(exc, where=where)
            else:
                text = (
                    f"Moved {movement.quantity} × {data['sku'].sku_code} at {data['warehouse'].name} from "
                    f"{StockState(movement.state_from).label.lower()} to {StockState(movement.state_to).label.lower()} "
                    f"({movement.get_reason_display()}{', ' + movement.reference if movement.reference else ''})"
                )
                self.log_change(request, after, f"{text}.")
                self.message_user(
                    request,
                    (
                        f"{text}. Now {after.on_hand} on hand: {after.damaged} damaged, {after.quality_control} in "
                        f"quality control, {after.available} available."
                    ),
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:stock_stocklevel_change", args=[after.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Move stock between states",
            "form": form,
            "level": level,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/stock/stocklevel/state_move.html", context)
