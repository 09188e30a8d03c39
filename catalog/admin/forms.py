"""Change forms of the catalog admin: version-checked, with readable JSON attributes.

They read the shape of the input only. The rules (names, codes, prices, sibling names,
moves under itself) are the services'; `ServiceFormAdminMixin` shows a refused save
as errors of this form.
"""
from catalog.models import SKU, Category, Product
from inventory_site.admin import PrettyJSONWidget, VersionedAdminForm


class AttributesFormMixin:
    """`attributes` left empty is `{}`. Uniqueness and the model's constraints are left to
    the service (and the database), which say what is taken in the shop's words."""

    def clean_attributes(self):
        value = self.cleaned_data.get("attributes")
        return {} if value in (None, "") else value

    def validate_unique(self):
        pass


class CategoryAdminForm(AttributesFormMixin, VersionedAdminForm):
    """Name, parent (searched by path), description, attributes."""

    class Meta:
        model = Category
        fields = ["name", "parent", "description", "attributes"]
        widgets = {"attributes": PrettyJSONWidget}


class ProductAdminForm(AttributesFormMixin, VersionedAdminForm):
    class Meta:
        model = Product
        fields = ["name", "category", "description", "attributes"]
        widgets = {"attributes": PrettyJSONWidget}


class SKUAdminForm(AttributesFormMixin, VersionedAdminForm):
    class Meta:
        model = SKU
        fields = ["sku_code", "product", "price", "attributes", "backorder_policy"]
        widgets = {"attributes": PrettyJSONWidget(attrs={"rows": 3, "cols": 40})}


class SKUInlineForm(AttributesFormMixin, VersionedAdminForm):
    class Meta:
        model = SKU
        fields = ["sku_code", "price", "attributes"]
        widgets = {"attributes": PrettyJSONWidget(attrs={"rows": 3, "cols": 36})}
