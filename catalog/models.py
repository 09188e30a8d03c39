"""The catalog: a category tree, products in categories, and SKUs (sellable variants)."""

from typing import Any, ClassVar

from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce, Lower
from mptt.managers import TreeManager
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet
from simple_history.models import HistoricalRecords

from catalog.rules import MAX_PRICE, MIN_PRICE, SKU_CODE_PATTERN, SKU_CODE_PROBLEM, sku_code_key
from inventory_site.models import SoftDeleteModel, SoftDeleteQuerySet, TimeStampedModel, VersionedModel


class CategoryQuerySet(TreeQuerySet, SoftDeleteQuerySet["Category"]):
    """Tree queries that know about soft-deleted rows."""


# django-mptt has no type information: this base is `Any` to the type checker.
_CategoryTreeManagerBase: Any = TreeManager.from_queryset(CategoryQuerySet)


class CategoryTreeManager(_CategoryTreeManagerBase):
    """All categories, deleted included. django-mptt does its tree arithmetic through
    this manager, so it must never hide rows."""


class ActiveCategoryManager(CategoryTreeManager):
    """Non-deleted categories, in tree order."""

    def get_queryset(self) -> CategoryQuerySet:
        return super().get_queryset().filter(is_deleted=False)


class Category(MPTTModel, TimeStampedModel, VersionedModel, SoftDeleteModel):
    """A node of the category tree (django-mptt). `path` is denormalized for fast reads."""

    name = models.CharField(max_length=100, help_text="Unique among its non-deleted siblings, any case.")
    slug = models.SlugField(max_length=120, editable=False, db_index=False)
    description = models.CharField(max_length=500, blank=True, default="")
    parent = TreeForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="Empty for a top-level category.",
    )
    path = models.TextField(editable=False, default="", help_text="Ancestor names and its own, joined by '/'.")
    attributes = models.JSONField(default=dict, blank=True, help_text="A JSON object, at most 5 levels deep.")

    all_objects: ClassVar[CategoryTreeManager] = CategoryTreeManager()
    objects: ClassVar[ActiveCategoryManager] = ActiveCategoryManager()
    history = HistoricalRecords(excluded_fields=["lft", "rght", "tree_id", "level"])

    class MPTTMeta:
        order_insertion_by = ["name"]

    class Meta:
        verbose_name_plural = "categories"
        # django-mptt uses the default manager for tree updates: it must see every row.
        default_manager_name = "all_objects"
        base_manager_name = "all_objects"
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                Coalesce("parent", Value(0)),
                condition=Q(is_deleted=False),
                name="category_unique_active_sibling_name",
                violation_error_message="A sibling category of this name (in any case) already exists.",
            ),
            models.CheckConstraint(
                condition=~Q(name=""),
                name="category_name_not_empty",
                violation_error_message="The name must not be empty.",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="category_version_positive"),
        ]
        indexes = [
            models.Index(fields=["tree_id", "lft"], name="category_tree_order"),
            models.Index(fields=["parent", "is_deleted"], name="category_parent_active"),
            models.Index(fields=["level"], name="category_level"),
        ]
        permissions = [("purge_category", "Can permanently delete categories")]

    def __str__(self) -> str:
        return self.path or self.name


class ProductQuerySet(SoftDeleteQuerySet["Product"]):
    """Product queries."""


ProductManager = models.Manager.from_queryset(ProductQuerySet)


class ActiveProductManager(ProductManager["Product"]):
    def get_queryset(self) -> models.QuerySet["Product"]:
        return super().get_queryset().filter(is_deleted=False)


class Product(TimeStampedModel, VersionedModel, SoftDeleteModel):
    """A thing the shop sells, in one category; its variants are SKUs."""

    name = models.CharField(max_length=150, db_index=True)
    slug = models.SlugField(max_length=170, editable=False, db_index=False)
    description = models.TextField(max_length=5000, blank=True, default="")
    # Indexed by `product_category_active` (category, is_deleted).
    category = TreeForeignKey(Category, on_delete=models.PROTECT, related_name="products", db_index=False)
    attributes = models.JSONField(default=dict, blank=True, help_text="A JSON object, at most 5 levels deep.")

    # Its own queryset's manager (hiding deleted rows too) in place of SoftDeleteModel's.
    objects: ClassVar[ActiveProductManager] = ActiveProductManager()  # type: ignore[assignment]
    all_objects: ClassVar[ProductManager["Product"]] = ProductManager()
    history = HistoricalRecords()

    class Meta:
        constraints = [
            # What identifies a product: its name (any case) among the active products of its
            # category. The API, the admin and import_catalog (which matches by it) agree.
            models.UniqueConstraint(
                Lower("name"),
                "category",
                condition=Q(is_deleted=False),
                name="product_unique_active_name_in_category",
                violation_error_message="A product of this name (in any case) already exists in this category.",
            ),
            models.CheckConstraint(
                condition=~Q(name=""),
                name="product_name_not_empty",
                violation_error_message="The name must not be empty.",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="product_version_positive"),
        ]
        indexes = [
            models.Index(fields=["category", "is_deleted"], name="product_category_active"),
        ]
        permissions = [("purge_product", "Can permanently delete products")]

    def __str__(self) -> str:
        return self.name


class SKUQuerySet(SoftDeleteQuerySet["SKU"]):
    """SKU queries."""

    def with_code(self, code: str) -> "SKUQuerySet":
        """SKUs whose code is `code` in any case, found through the unique index on LOWER(sku_code).

        (`sku_code__iexact` compares UPPER() on PostgreSQL, which that index cannot serve.)
        """
        key = sku_code_key(code)
        if key is None:  # not a code the create rule takes: it names no SKU, whatever lower() makes of it
            return self.none()
        return self.alias(sku_code_lower=Lower("sku_code")).filter(sku_code_lower=key)


SKUManager = models.Manager.from_queryset(SKUQuerySet)


class ActiveSKUManager(SKUManager["SKU"]):
    def get_queryset(self) -> models.QuerySet["SKU"]:
        return super().get_queryset().filter(is_deleted=False)


class BackorderPolicy(models.TextChoices):
    """Whether a SKU may be sold against stock that is on its way."""

    DENY = "deny", "Deny"
    ALLOW_INCOMING = "allow_incoming", "Allow against incoming stock"


class SKU(TimeStampedModel, VersionedModel, SoftDeleteModel):
    """A sellable variant of a product (size, colour...), with its own code and price."""

    sku_code = models.CharField(
        "SKU code",
        max_length=50,
        help_text="Unique in any case, also against deleted SKUs.",
    )
    # Indexed by `sku_product_active` (product, is_deleted).
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="skus", db_index=False)
    price = models.DecimalField(
        max_digits=10, decimal_places=2, help_text=f"{MIN_PRICE} to {MAX_PRICE}, at most 2 decimals."
    )
    attributes = models.JSONField(default=dict, blank=True, help_text='e.g. {"color": "red", "size": "M"}')
    backorder_policy = models.CharField(
        max_length=20,
        choices=BackorderPolicy.choices,
        default=BackorderPolicy.DENY,
        db_default=BackorderPolicy.DENY,
        help_text="Allow against incoming: reservations may take what is short from open inbound shipments.",
    )
    # Set when the SKU was soft-deleted together with its product, so that restoring
    # the product brings back exactly those SKUs.
    deleted_with_product = models.BooleanField(default=False, editable=False)

    # Its own queryset's manager (hiding deleted rows too) in place of SoftDeleteModel's.
    objects: ClassVar[ActiveSKUManager] = ActiveSKUManager()  # type: ignore[assignment]
    all_objects: ClassVar[SKUManager["SKU"]] = SKUManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "SKU"
        constraints = [
            models.UniqueConstraint(
                Lower("sku_code"),
                name="sku_code_unique_ci",
                violation_error_message="This SKU code is already taken (in any case), possibly by a deleted SKU: "
                "codes of deleted SKUs stay reserved.",
            ),
            models.CheckConstraint(
                condition=Q(price__gte=MIN_PRICE),
                name="sku_price_not_negative",
                violation_error_message=f"The price is not between {MIN_PRICE} and {MAX_PRICE}.",
            ),
            models.CheckConstraint(
                condition=Q(price__lte=MAX_PRICE),
                name="sku_price_at_most_max",
                violation_error_message=f"The price is not between {MIN_PRICE} and {MAX_PRICE}.",
            ),
            # The code format, empty codes included; case-insensitive uniqueness is the index above.
            models.CheckConstraint(
                condition=Q(sku_code__regex=SKU_CODE_PATTERN),
                name="sku_code_format",
                violation_error_message=f"The SKU code {SKU_CODE_PROBLEM}.",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="sku_version_positive"),
            models.CheckConstraint(
                condition=Q(backorder_policy__in=BackorderPolicy.values), name="sku_backorder_policy_known"
            ),
        ]
        indexes = [
            models.Index(fields=["product", "is_deleted"], name="sku_product_active"),
            models.Index(fields=["price"], name="sku_price"),
            models.Index(fields=["sku_code"], name="sku_code_exact"),
        ]
        permissions = [("purge_sku", "Can permanently delete SKUs")]

    def __str__(self) -> str:
        return self.sku_code
