"""Change forms of the catalog admin: version-checked, attributes edited as name/value rows.

They read the shape of the input only. The rules (names, codes, prices, sibling names,
moves under itself) are the services'; `ServiceFormAdminMixin` shows a refused save
as errors of this form.
"""

from catalog.models import SKU, Category, Product
from inventory_site.admin import VersionedAdminForm
from inventory_site.attributes_widget import AttributesField, AttributesWidget
from inventory_site.mixin_bases import FormMixinBase


class AttributesFormMixin(FormMixinBase):
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
        field_classes = {"attributes": AttributesField}
        widgets = {"attributes": AttributesWidget}


class ProductAdminForm(AttributesFormMixin, VersionedAdminForm):
    class Meta:
        model = Product
        fields = ["name", "category", "description", "attributes"]
        field_classes = {"attributes": AttributesField}
        widgets = {"attributes": AttributesWidget}


class SKUAdminForm(AttributesFormMixin, VersionedAdminForm):
    class Meta:
        model = SKU
        fields = ["sku_code", "product", "price", "attributes", "backorder_policy"]
        field_classes = {"attributes": AttributesField}
        widgets = {"attributes": AttributesWidget(rows=4)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "backorder_policy" in self.fields:
            self.fields["backorder_policy"].required = False  # not posted: the SKU keeps its policy
