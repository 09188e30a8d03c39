"""Query-string filters of the catalog lists."""

import django_filters

from catalog import selectors
from catalog.models import SKU, Category, Product
from inventory_site.api.filters import (
    IdFilter,
    InclusiveDateTimeFilter,
    NullableIdFilter,
    SoftDeleteFilterSet,
)


class CategoryTreeFilterMixin(django_filters.FilterSet):
    """`?category_tree=<id>`: rows in that category or any category below it."""

    category_prefix = "category__"

    category_tree = IdFilter(
        method="filter_category_tree", help_text="A category id: rows in it and all categories below it."
    )

    def filter_category_tree(self, queryset, name, value):
        category = Category.all_objects.filter(pk=value).only("tree_id", "lft", "rght").first()
        if category is None:
            return queryset.none()
        return queryset.filter(selectors.subtree_filter(category, prefix=self.category_prefix))


class CategoryFilter(SoftDeleteFilterSet):
    parent_id = NullableIdFilter(
        field_name="parent_id", help_text="Children of this category; `null` for the top-level categories."
    )
    level = IdFilter(field_name="level", help_text="Depth in the tree; 0 for top-level categories.")
    search = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", max_length=200, help_text="Text in the name."
    )

    class Meta:
        model = Category
        fields = ()


class ProductFilter(CategoryTreeFilterMixin, SoftDeleteFilterSet):
    category_id = IdFilter(field_name="category_id", help_text="Products of exactly this category.")
    search = django_filters.CharFilter(
        method="filter_search", max_length=200, help_text="Text in the name, the description or an active SKU's code."
    )
    created_after = InclusiveDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text="Created at or after (ISO 8601 date-time; a bare date means its start).",
    )
    created_before = InclusiveDateTimeFilter(
        field_name="created_at",
        lookup_expr="lte",
        help_text="Created at or before (ISO 8601 date-time; a bare date includes that whole day).",
    )

    class Meta:
        model = Product
        fields = ()

    def filter_search(self, queryset, name, value):
        return selectors.product_search(queryset, value)


class SKUFilter(CategoryTreeFilterMixin, SoftDeleteFilterSet):
    category_prefix = "product__category__"

    product_id = IdFilter(field_name="product_id", help_text="SKUs of this product.")
    sku_code = django_filters.CharFilter(method="filter_sku_code", max_length=50, help_text="The exact code, any case.")
    price_min = django_filters.NumberFilter(
        field_name="price",
        lookup_expr="gte",
        max_digits=10,
        decimal_places=2,
        help_text="Price at least this (inclusive).",
    )
    price_max = django_filters.NumberFilter(
        field_name="price",
        lookup_expr="lte",
        max_digits=10,
        decimal_places=2,
        help_text="Price at most this (inclusive).",
    )
    search = django_filters.CharFilter(
        method="filter_search", max_length=200, help_text="Text in the SKU code or the product name."
    )

    class Meta:
        model = SKU
        fields = ()

    def filter_sku_code(self, queryset, name, value):
        return queryset.with_code(value) if value else queryset

    def filter_search(self, queryset, name, value):
        return selectors.sku_search(queryset, value)
