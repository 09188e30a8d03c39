"""Thresholds, safety stock, reorder points and quantities of many levels at once: a bulk action
on the stock levels list (a form, then every ticked level through `stock_level_update_settings`,
all or nothing)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.template.response import TemplateResponse

from inventory_site.exceptions import DomainError
from inventory_site.mixin_bases import ModelAdminMixinBase
from inventory_site.refusals import refusal_sentence
from stock import services

SETTINGS = ("low_stock_threshold", "safety_stock", "reorder_point", "reorder_quantity")


class LevelSettingsForm(forms.Form):
    """Each box left empty leaves that setting as it is."""

    low_stock_threshold = forms.IntegerField(required=False, min_value=0, label="Low-stock threshold")
    safety_stock = forms.IntegerField(required=False, min_value=0, label="Safety stock")
    reorder_point = forms.IntegerField(required=False, min_value=0, label="Reorder point")
    reorder_quantity = forms.IntegerField(required=False, min_value=1, label="Reorder quantity")

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if not self.errors and all(cleaned.get(name) is None for name in SETTINGS):
            raise forms.ValidationError("Fill in at least one setting.")
        return cleaned


class LevelSettingsActionMixin(ModelAdminMixinBase):
    """Adds the "Set thresholds and reorder settings" action to `StockLevelAdmin`."""

    @admin.action(description="Set thresholds and reorder settings", permissions=["change"])
    def set_level_settings(self, request, queryset):
        levels = list(queryset.select_related("sku", "warehouse").order_by("pk"))
        form = LevelSettingsForm(request.POST if "_apply" in request.POST else None)
        refused = []
        if form.is_bound and form.is_valid():
            given = {name: value for name, value in form.cleaned_data.items() if value is not None}
            with transaction.atomic():
                for level in levels:
                    try:
                        with transaction.atomic():
                            services.stock_level_update_settings(level=level, user=request.user, **given)
                    except DomainError as exc:
                        refused.append(f"{level}: {refusal_sentence(exc)}")
                if refused:
                    transaction.set_rollback(True)
            if not refused:
                for level in levels:
                    self.log_change(request, level, f"Settings set in bulk: {given}.")
                words = ", ".join(
                    f"{str(LevelSettingsForm.base_fields[k].label).lower()} {v:,}" for k, v in given.items()
                )
                self.message_user(request, f"Set {words} on {len(levels)} stock levels.", messages.SUCCESS)
                return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Set thresholds and reorder settings",
            "form": form,
            "levels": levels,
            "refused": refused,
            "action": "set_level_settings",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/stock/stocklevel/bulk_settings.html", context)


SETTINGS_COLUMNS = ("sku_code",)  # and at least one of SETTINGS; warehouse optional
SETTING_WORDS = {
    "low_stock_threshold": "threshold",
    "safety_stock": "safety stock",
    "reorder_point": "reorder point",
    "reorder_quantity": "reorder quantity",
}


def settings_from_sheet(records, *, default_warehouse, user, dry_run: bool) -> dict:
    """A sheet of level settings (`sku_code[, warehouse], low_stock_threshold, safety_stock,
    reorder_point, reorder_quantity`; an empty cell keeps the setting) through
    `stock_level_update_settings`, all or nothing; a dry run writes and rolls back. Raises a
    `DomainError` naming every refused line."""
    from catalog.models import SKU
    from stock.models import StockLevel, Warehouse

    warehouses = {w.code: w for w in Warehouse.objects.all()}
    rows, faults, done = [], {}, 0
    with transaction.atomic():
        for number, row in records:
            code, where = row.get("sku_code", ""), row.get("warehouse", "").upper()
            warehouse = warehouses.get(where) if where else default_warehouse
            level = (
                StockLevel.objects.select_related("sku", "warehouse")
                .filter(sku__in=SKU.objects.filter(sku_code__iexact=code), warehouse=warehouse)
                .first()
                if code
                else None
            )
            given, problems = {}, []
            for name in SETTINGS:
                text = row.get(name, "").strip()
                if text:
                    if text.isascii() and text.isdigit():
                        given[name] = int(text)
                    else:
                        problems.append(f"{SETTING_WORDS[name]} {text!r} is not a whole number")
            if level is None:
                problems.insert(0, f"no stock level of {code or '(empty code)'} at {where or 'the default warehouse'}")
            if problems:
                faults[f"line {number}"] = "; ".join(problems)
                continue
            assert level is not None  # a missing level is a problem, above
            before = {name: getattr(level, name) for name in given}
            try:
                with transaction.atomic():
                    services.stock_level_update_settings(level=level, user=user, **given)
            except DomainError as exc:
                faults[f"line {number}"] = refusal_sentence(exc)
                continue
            changes = [
                f"{SETTING_WORDS[n]} {_shown(before[n])} → {_shown(v)}" for n, v in given.items() if before[n] != v
            ]
            rows.append((f"line {number}", level.sku.sku_code, level.warehouse.code, "; ".join(changes) or "no change"))
            done += bool(changes)
        if faults or dry_run:
            transaction.set_rollback(True)
    if faults:
        raise DomainError(f"{len(faults)} invalid line(s); nothing was changed.", errors=faults)
    return {
        "kind": "settings",
        "rows": rows,
        "lines": len(rows),
        "summary": f"{len(rows)} lines: {done} levels change their settings, {len(rows) - done} stay as they are.",
    }


def _shown(value) -> str:
    return "–" if value is None else f"{value:,}"
