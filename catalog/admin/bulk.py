"""Bulk actions of the catalog lists: move products to a category, change prices, move categories.

Each opens a page of its own: the choice (which category, how much), a preview of every row
(before, after, or why the service refuses it), then "Apply", all or nothing. The preview is
the service's dry run and "Apply" the same call with the versions the preview read, so a row
changed in between is refused rather than overwritten.
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect
from django.template.response import TemplateResponse

from catalog import services
from catalog.exceptions import BulkEditRefused
from catalog.models import SKU, Category, Product
from inventory_site.mixin_bases import ModelAdminMixinBase


class MoveToCategoryForm(forms.Form):
    category = forms.ModelChoiceField(
        queryset=Category.objects.all(),
        label="Move to",
        widget=AutocompleteSelect(Product._meta.get_field("category"), admin.site),
        help_text="Type to search the category tree by name.",
    )

    def run(self, products: list[int], **kwargs):
        return services.products_move(product_ids=products, category_id=self.cleaned_data["category"].pk, **kwargs)


class MoveCategoriesForm(forms.Form):
    target = forms.ModelChoiceField(
        queryset=Category.objects.all(),
        label="Next to",
        widget=AutocompleteSelect(Category._meta.get_field("parent"), admin.site),
        help_text="Type to search the category tree by name.",
    )
    position = forms.ChoiceField(
        choices=[
            ("last-child", "inside it, as its last sub-category"),
            ("left", "before it, at its level"),
            ("right", "after it, at its level"),
        ],
        initial="last-child",
        widget=forms.RadioSelect,
        label="Put them",
    )

    def run(self, categories: list[int], **kwargs):
        return services.categories_move(
            category_ids=categories,
            target_id=self.cleaned_data["target"].pk,
            position=self.cleaned_data["position"],
            **kwargs,
        )


class PriceChangeForm(forms.Form):
    how = forms.ChoiceField(
        choices=[("amount", "by an amount"), ("percent", "by a percentage")],
        initial="percent",
        widget=forms.RadioSelect,
        label="Change prices",
    )
    value = forms.DecimalField(
        max_digits=10,
        decimal_places=2,
        label="By",
        help_text="Negative lowers prices: -5 (amount) or -10 (per cent). Rounded to the cent.",
    )

    def run(self, skus: list[int], **kwargs):
        value: Decimal = self.cleaned_data["value"]
        by: dict[str, Any] = {"amount": value} if self.cleaned_data["how"] == "amount" else {"percent": value}
        return services.skus_reprice(sku_ids=skus, **by, **kwargs)


def _versions(post) -> dict[int, int]:
    versions = {}
    for key, value in post.items():
        if key.startswith("version_") and key[8:].isdigit() and value.isdigit():
            versions[int(key[8:])] = int(value)
    return versions


def _choice(form) -> str:
    """What the user chose, as text: "Apply" applies only the choice that was previewed."""
    return "&".join(
        f"{name}={form.cleaned_data[name].pk if hasattr(form.cleaned_data[name], 'pk') else form.cleaned_data[name]}"
        for name in form.fields
    )


class BulkEditActionsMixin(ModelAdminMixinBase):
    """The bulk actions (each admin lists those it offers); `bulk_targets` says which rows an
    edit writes (the rows ticked, or for instance the SKUs of the products ticked)."""

    def bulk_targets(self, queryset, model) -> list[int]:
        return list(queryset.values_list("pk", flat=True))

    @admin.action(description="Move to category… (previewed)", permissions=["change"])
    def move_to_category(self, request, queryset):
        return self._bulk_edit(
            request, queryset, "move_to_category", MoveToCategoryForm, Product, title="Move products to a category"
        )

    @admin.action(description="Move to… (previewed; across pages and levels)", permissions=["change"])
    def move_categories(self, request, queryset):
        return self._bulk_edit(
            request, queryset, "move_categories", MoveCategoriesForm, Category, title="Move categories"
        )

    @admin.action(description="Change price… (previewed)", permissions=["change"])
    def change_price(self, request, queryset):
        return self._bulk_edit(request, queryset, "change_price", PriceChangeForm, SKU, title="Change SKU prices")

    def _bulk_edit(self, request, queryset, action, form_class, model, *, title):
        step = request.POST.get("bulk_step")
        form = form_class(request.POST if step else None)
        changes, refused = None, False
        if step and form.is_valid():
            targets = self.bulk_targets(queryset, model)
            if step == "apply" and request.POST.get("previewed") != _choice(form):
                self.message_user(
                    request, "The choice changed since the preview: check this preview, then apply.", messages.WARNING
                )
                step = "preview"
            if step == "apply":
                try:
                    changes = form.run(targets, user=request.user, versions=_versions(request.POST))
                except BulkEditRefused as exc:
                    changes, refused = exc.changes, True
                    self.message_user(request, f"Nothing was changed: {exc.message}", messages.ERROR)
                else:
                    noun = model._meta.verbose_name if len(changes) == 1 else model._meta.verbose_name_plural
                    self.message_user(request, f"{title}: {len(changes)} {noun} changed.", messages.SUCCESS)
                    return None
            else:
                changes = form.run(targets, user=request.user, dry_run=True)
        errors = [c for c in changes or [] if c.error]
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "form": form,
            "action": action,
            "changes": changes,
            "errors": errors,
            "refused": refused,
            "target_name": model._meta.verbose_name_plural,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
            "previewed": _choice(form) if form.is_bound and form.is_valid() else "",
        }
        return TemplateResponse(request, "admin/catalog/bulk_edit.html", context)
