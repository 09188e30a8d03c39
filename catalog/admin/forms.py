"""Change forms of the catalog admin: version-checked, with readable JSON attributes."""
from django.core.exceptions import ValidationError

from catalog.models import SKU, Category, Product
from inventory_site.admin import PrettyJSONWidget, VersionedAdminForm
from inventory_site.validators import validate_attributes, validate_category_name, validate_name, validate_text


class AttributesFormMixin:
    """Validates `attributes` with the API's validator; `{}` when left empty."""

    def clean_attributes(self):
        value = self.cleaned_data.get("attributes")
        if value in (None, ""):
            value = {}
        validate_attributes(value)
        return value

    def clean_name(self):
        value = self.cleaned_data.get("name")
        validate_name(value)
        return value.strip()

    def clean_description(self):
        value = self.cleaned_data.get("description") or ""
        validate_text(value)
        return value


class CategoryAdminForm(AttributesFormMixin, VersionedAdminForm):
    """Name, parent (searched by path), description, attributes; refuses a move under itself."""

    class Meta:
        model = Category
        fields = ["name", "parent", "description", "attributes"]
        widgets = {"attributes": PrettyJSONWidget}

    def clean_name(self):
        value = super().clean_name()
        validate_category_name(value)
        return value

    def clean(self):
        cleaned = super().clean()
        name, parent = cleaned.get("name"), cleaned.get("parent")
        if name:
            siblings = Category.objects.filter(parent=parent, name__iexact=name).exclude(pk=self.instance.pk)
            if siblings.exists():
                self.add_error("name", f"{parent or 'The top level'} already has a category named {name!r}.")
        return cleaned

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        node = self.instance
        if parent is not None and node.pk is not None:
            if parent.pk == node.pk or (
                parent.tree_id == node.tree_id and node.lft <= parent.lft <= node.rght
            ):
                raise ValidationError("A category cannot be moved under itself or one of its sub-categories.")
        return parent


class SKUCodeFormMixin:
    """Says which code is taken instead of naming the database constraint."""

    def clean_sku_code(self):
        code = self.cleaned_data["sku_code"].strip()
        if SKU.all_objects.filter(sku_code__iexact=code).exclude(pk=self.instance.pk).exists():
            raise ValidationError(f"SKU code {code!r} is already taken (codes of deleted SKUs stay reserved).")
        return code


class ProductAdminForm(AttributesFormMixin, VersionedAdminForm):
    class Meta:
        model = Product
        fields = ["name", "category", "description", "attributes"]
        widgets = {"attributes": PrettyJSONWidget}


class SKUAdminForm(SKUCodeFormMixin, AttributesFormMixin, VersionedAdminForm):
    class Meta:
        model = SKU
        fields = ["sku_code", "product", "price", "attributes"]
        widgets = {"attributes": PrettyJSONWidget(attrs={"rows": 3, "cols": 40})}


class SKUInlineForm(SKUCodeFormMixin, AttributesFormMixin, VersionedAdminForm):
    class Meta:
        model = SKU
        fields = ["sku_code", "price", "attributes"]
        widgets = {"attributes": PrettyJSONWidget(attrs={"rows": 3, "cols": 36})}
