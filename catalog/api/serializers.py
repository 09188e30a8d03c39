"""Shapes of categories, products and SKUs in the API. Input is checked for its shape only
(a string, an integer, a JSON object): the rules on the values (`catalog.rules`) are the
services' and answer the same 400 `validation_error` naming the field."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import SKU, BackorderPolicy, Category, Product
from inventory_site.api.fields import AttributesField, PriceField, StrictCharField, StrictIntegerField
from inventory_site.api.serializers import FastReadSerializerMixin

READ_ONLY = ("id", "slug", "created_at", "updated_at", "version", "is_deleted", "deleted_at")


class CategorySerializer(FastReadSerializerMixin, serializers.ModelSerializer):
    """A category. `path` and `product_count` are computed; `parent_id` null makes a root."""

    name = StrictCharField(
        trim_whitespace=False,
        allow_blank=True,
        help_text="1-100 characters, unique among its non-deleted siblings (any case). "
        "Not whitespace only, no control characters, and no '/' (it separates the names in `path` "
        "and in catalog imports).",
    )
    description = StrictCharField(
        trim_whitespace=False,
        allow_blank=True,
        required=False,
        help_text="At most 500 characters; newlines and tabs allowed, no other control characters.",
    )
    parent_id = StrictIntegerField(
        allow_null=True,
        required=False,
        help_text="The parent category (active); null for a top-level category. Changing it moves the subtree.",
    )
    attributes = AttributesField(required=False)
    slug = serializers.CharField(read_only=True, help_text="Made from the name; Unicode letters are kept.")
    path = serializers.CharField(read_only=True, help_text="Ancestor names and its own, joined by '/'.")
    level = serializers.IntegerField(read_only=True, help_text="0 for a top-level category.")
    product_count = serializers.IntegerField(
        read_only=True, help_text="Active products in this category and all its descendants."
    )

    class Meta:
        model = Category
        fields = (
            "id",
            "name",
            "slug",
            "description",
            "parent_id",
            "path",
            "level",
            "attributes",
            "product_count",
            "created_at",
            "updated_at",
            "version",
            "is_deleted",
            "deleted_at",
        )
        read_only_fields = READ_ONLY


class CategoryTreeNodeSerializer(serializers.Serializer):
    """A node of `GET /categories/tree/`, with its `children` (nodes of the same shape).

    Only the fields needed to navigate; `GET /categories/{id}/` has the rest.
    """

    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    parent_id = serializers.IntegerField(allow_null=True)
    path = serializers.CharField()
    level = serializers.IntegerField()
    product_count = serializers.IntegerField(help_text="Active products in this category and all below it.")
    children = serializers.SerializerMethodField()

    @extend_schema_field({"type": "array", "items": {"$ref": "#/components/schemas/CategoryTreeNode"}})
    def get_children(self, node):  # pragma: no cover - documentation only; the view returns dicts
        return node["children"]


class CategoryMoveSerializer(serializers.Serializer):
    """Body of `POST /categories/{id}/move/`."""

    target_id = StrictIntegerField(help_text="The category to move relative to.")
    position = serializers.ChoiceField(
        choices=["first-child", "last-child", "left", "right"],
        default="last-child",
        help_text="first-child/last-child of the target, or its left/right sibling.",
    )


class CategoryTreeQuerySerializer(serializers.Serializer):
    """Query of `GET /categories/tree/`."""

    root_id = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    max_depth = serializers.IntegerField(min_value=0, max_value=1000, required=False)


class ProductSerializer(FastReadSerializerMixin, serializers.ModelSerializer):
    """A product in one category; `sku_count` counts its active SKUs."""

    name = StrictCharField(
        trim_whitespace=False,
        allow_blank=True,
        help_text="1-150 characters; not whitespace only, no control characters.",
    )
    description = StrictCharField(
        trim_whitespace=False,
        allow_blank=True,
        required=False,
        help_text="At most 5000 characters; newlines and tabs allowed, no other control characters.",
    )
    category_id = StrictIntegerField(help_text="An active category.")
    attributes = AttributesField(required=False)
    sku_count = serializers.IntegerField(read_only=True, help_text="Active SKUs of this product.")
    slug = serializers.CharField(read_only=True, help_text="Made from the name; Unicode letters are kept.")

    class Meta:
        model = Product
        fields = (
            "id",
            "name",
            "slug",
            "description",
            "category_id",
            "attributes",
            "sku_count",
            "created_at",
            "updated_at",
            "version",
            "is_deleted",
            "deleted_at",
        )
        read_only_fields = READ_ONLY


class SKUSerializer(FastReadSerializerMixin, serializers.ModelSerializer):
    """A sellable variant: a code and a price. An app that builds on the catalog subclasses it
    to add its own fields."""

    sku_code = StrictCharField(
        trim_whitespace=False,
        allow_blank=True,
        help_text="1-50 characters of A-Z a-z 0-9 . _ -; unique in any case, also against deleted SKUs.",
    )
    product_id = StrictIntegerField(help_text="An active product.")
    price = PriceField()
    attributes = AttributesField(
        required=False,
        help_text='A JSON object, e.g. {"color": "red", "size": "M"}; at most 16 KiB serialized, 5 levels deep.',
    )
    backorder_policy = serializers.ChoiceField(
        choices=BackorderPolicy.choices,
        required=False,
        help_text="`deny` (default) or `allow_incoming`: reservations may take what is short from "
        "open inbound shipments.",
    )

    class Meta:
        model = SKU
        fields: tuple[str, ...] = (
            "id",
            "sku_code",
            "product_id",
            "price",
            "attributes",
            "backorder_policy",
            "created_at",
            "updated_at",
            "version",
            "is_deleted",
            "deleted_at",
        )
        read_only_fields = READ_ONLY
