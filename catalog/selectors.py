"""Reads of the catalog with business meaning, shaped so query counts stay flat."""

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable
from itertools import accumulate
from typing import TypeVar

from django.db import connection
from django.db.models import Count, Exists, IntegerField, Model, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from catalog.exceptions import NotFound
from catalog.models import SKU, Category, Product

_M = TypeVar("_M", bound=Model)

# A tree node carries the fields needed to navigate; `GET /categories/{id}/` has the rest.
# (Timestamps and JSON attributes would triple the cost of a 10k-node tree.)
TREE_NODE_FIELDS = ("id", "name", "slug", "parent_id", "path", "level")

# The number of active SKUs as statement triggers keep it, in the same transaction as each
# SKU write (PostgreSQL; catalog migration 0005): 16 rows to sum instead of a count of all.
ACTIVE_SKU_COUNT_SQL = "(SELECT SUM(skus)::bigint FROM catalog_sku_active_count)"


def subtree_filter(category: Category, prefix: str = "") -> Q:
    """Rows whose category (reached through `prefix`) is `category` or below it."""
    return Q(
        **{
            f"{prefix}tree_id": category.tree_id,
            f"{prefix}lft__gte": category.lft,
            f"{prefix}lft__lte": category.rght,
        }
    )


def product_count_in_subtree() -> Coalesce:
    """Active products in an outer category's subtree: one correlated subquery per row."""
    products = (
        Product.objects.filter(
            category__tree_id=OuterRef("tree_id"),
            category__lft__gte=OuterRef("lft"),
            category__lft__lte=OuterRef("rght"),
        )
        .order_by()
        .values("category__tree_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(products, output_field=IntegerField()), Value(0))


def category_list() -> QuerySet:
    """All categories (deleted included; the filters hide them) with `product_count`, in tree order."""
    return Category.all_objects.annotate(product_count=product_count_in_subtree()).order_by("tree_id", "lft")


def _one(queryset: QuerySet[_M], pk: int, *, include_deleted: bool, label: str) -> _M:
    """The row `pk` of `queryset` (deleted ones only when asked for), or `NotFound`."""
    if not include_deleted:
        queryset = queryset.filter(is_deleted=False)
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise NotFound(f"{label} {pk} not found.")
    return row


def category_get(*, category_id: int, include_deleted: bool = False) -> Category:
    """One category with `product_count`, or `NotFound`."""
    return _one(category_list(), category_id, include_deleted=include_deleted, label="Category")


def category_ancestors(*, category: Category) -> QuerySet:
    """From the root down to the parent, not the category itself."""
    return category_list().filter(tree_id=category.tree_id, lft__lt=category.lft, rght__gt=category.rght)


def category_descendants(*, category: Category) -> QuerySet:
    """Every active category below it, in tree order."""
    return category_list().filter(
        is_deleted=False, tree_id=category.tree_id, lft__gt=category.lft, rght__lt=category.rght
    )


def _subtree_product_counter(scope: Q) -> Callable[[int, int, int], int]:
    """A function giving, for a (tree_id, lft, rght) node, the active products in its subtree.

    One aggregate query counts the products per category position; sums over a node's
    interval come from prefix sums, so the whole tree costs one query and O(n log n).
    """
    rows = (
        Product.objects.filter(scope)
        .order_by()
        .values_list("category__tree_id", "category__lft")
        .annotate(n=Count("pk"))
    )
    per_tree: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for tree_id, lft, n in rows:
        per_tree[tree_id].append((lft, n))
    index = {}
    for tree_id, pairs in per_tree.items():
        pairs.sort()
        index[tree_id] = ([lft for lft, _ in pairs], [0, *accumulate(n for _, n in pairs)])

    def count(tree_id: int, lft: int, rght: int) -> int:
        if tree_id not in index:
            return 0
        lfts, sums = index[tree_id]
        return sums[bisect_right(lfts, rght)] - sums[bisect_left(lfts, lft)]

    return count


def category_tree(*, root_id: int | None = None, max_depth: int | None = None) -> list[dict]:
    """The active tree as nested dicts (each with `children` and `product_count`).

    The top nodes are the roots, or the category `root_id`; `max_depth` keeps that many
    levels below them. At most three queries whatever the size: the root, the nodes in
    tree order, and the product counts.
    """
    nodes = Category.objects.all()
    scope = Q()
    base_level = 0
    if root_id is not None:
        root = Category.objects.filter(pk=root_id).first()
        if root is None:
            raise NotFound(f"Category {root_id} not found.")
        nodes = nodes.filter(subtree_filter(root))
        scope = subtree_filter(root, prefix="category__")
        base_level = root.level
    if max_depth is not None:
        nodes = nodes.filter(level__lte=base_level + max_depth)
    count = _subtree_product_counter(scope)
    by_id: dict[int, dict] = {}
    top: list[dict] = []
    for *values, tree_id, lft, rght in nodes.order_by("tree_id", "lft").values_list(
        *TREE_NODE_FIELDS, "tree_id", "lft", "rght"
    ):
        node = dict(zip(TREE_NODE_FIELDS, values, strict=True))
        node["product_count"] = count(tree_id, lft, rght)
        node["children"] = []
        by_id[node["id"]] = node
        parent = by_id.get(node["parent_id"])
        (parent["children"] if parent is not None else top).append(node)
    return top


def product_list() -> QuerySet:
    """All products (deleted included; the filters hide them) with `sku_count` (active SKUs)."""
    skus = (
        SKU.objects.filter(product_id=OuterRef("pk"))
        .order_by()
        .values("product_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Product.all_objects.annotate(sku_count=Coalesce(Subquery(skus, output_field=IntegerField()), Value(0)))


def product_get(*, product_id: int, include_deleted: bool = False) -> Product:
    """One product with `sku_count`, or `NotFound`."""
    return _one(product_list(), product_id, include_deleted=include_deleted, label="Product")


def product_search(queryset: QuerySet, text: str) -> QuerySet:
    """Products whose name, description or one of whose active SKU codes contains `text`."""
    sku_match = SKU.objects.filter(product_id=OuterRef("pk"), sku_code__icontains=text)
    return queryset.filter(Q(name__icontains=text) | Q(description__icontains=text) | Exists(sku_match))


def sku_list() -> QuerySet:
    """All SKUs (deleted included; the filters hide them).

    The one place the SKU list and detail get their rows (an app above the catalog
    extends the SKU API with figures of its own on these rows).
    """
    return SKU.all_objects.all()


def sku_get(*, sku_id: int, include_deleted: bool = False) -> SKU:
    """One SKU as the list shows it, or `NotFound`."""
    return _one(sku_list(), sku_id, include_deleted=include_deleted, label="SKU")


def sku_search(queryset: QuerySet, text: str) -> QuerySet:
    """SKUs whose code or product name contains `text`."""
    return queryset.filter(Q(sku_code__icontains=text) | Q(product__name__icontains=text))


def products_with_price_range(queryset: QuerySet) -> QuerySet:
    """Annotate `price_min` and `price_max` over each product's active SKUs (None without SKUs)."""
    prices = SKU.objects.filter(product_id=OuterRef("pk"), is_deleted=False).order_by()
    return queryset.annotate(
        price_min=Subquery(prices.order_by("price").values("price")[:1]),
        price_max=Subquery(prices.order_by("-price").values("price")[:1]),
    )


def sku_count_drifts() -> list[str]:
    """The kept number of active SKUs against a count of them."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {ACTIVE_SKU_COUNT_SQL}")
        kept = cursor.fetchone()[0]
    counted = SKU.objects.count()
    return [] if kept == counted else [f"active SKU count: {kept} kept, {counted} counted"]
