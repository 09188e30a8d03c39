"""Thresholds, safety stock, reorder points and quantities of many levels at once: a bulk action
on the stock levels list (a form, then every ticked level through `stock_level_update_settings`,
all or nothing)."""
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.template.response import TemplateResponse

from inventory_site.exceptions import DomainError
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
        cleaned = super().clean()
        if not self.errors and all(cleaned.get(name) is None for name in SETTINGS):
            raise forms.ValidationError("Fill in at least one setting.")
        return cleaned


class LevelSettingsActionMixin:
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
                words = ", ".join(f"{LevelSettingsForm.base_fields[k].label.lower()} {v:,}" for k, v in given.items())
                self.message_user(request, f"Set {words} on {len(levels)} stock levels.", messages.SUCCESS)
                return None
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "title": "Set thresholds and reorder settings",
            "form": form, "levels": levels, "refused": refused, "action": "set_level_settings",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME, "media": self.media,
        }
        return TemplateResponse(request, "admin/stock/stocklevel/bulk_settings.html", context)
