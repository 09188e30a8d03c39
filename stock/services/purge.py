"""Hard-delete soft-deleted rows past their retention: SKUs, then products, then categories
leaf first, then warehouses.

A row is kept while the ledger needs it: a SKU or warehouse with a stock level that
holds units (on hand or reserved), or that appears in a movement, a reservation line or
an inbound shipment; a product that still has SKUs; a category that still has children or products.
Empty stock levels of purged SKUs and warehouses go with them. History rows
(django-simple-history) are kept.

It lives in `stock`, the app that builds on the catalog, because whether a SKU may go is
a question of the ledger; the catalog knows nothing of stock.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from catalog.models import SKU, Category, Product
from catalog.services.categories import category_tree_lock
from stock.models import InboundLine, ReservationLine, StockLevel, StockMovement, Warehouse
from stock.selectors import levels_holding_stock
from stock.services.ledger import lock_levels_of
from stock.services.warehouses import warehouse_delete_for_good, warehouse_hard_delete_refusal

MAX_LISTED = 1000


@dataclass
class PurgeResult:
    """Rows purged (or, dry run, that would be) and soft-deleted rows past retention kept for the ledger."""

    dry_run: bool = False
    purged: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("skus", "products", "categories", "warehouses", "stock_levels"), 0)
    )
    kept: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("skus", "products", "categories", "warehouses"), 0)
    )
    listed: list[str] = field(default_factory=list)  # "sku DM-1 (id 7)", the first MAX_LISTED

    @property
    def total(self) -> int:
        return sum(count for name, count in self.purged.items() if name != "stock_levels")


def _sku_holds_ledger() -> Q:
    """SKUs that hold stock or appear in the ledger."""
    ref = {"sku": OuterRef("pk")}
    return (
        Q(Exists(levels_holding_stock(StockLevel.objects.filter(**ref))))
        | Q(Exists(StockMovement.objects.filter(**ref)))
        | Q(Exists(ReservationLine.objects.filter(**ref)))
        | Q(Exists(InboundLine.objects.filter(**ref)))
    )


def _lock(query: QuerySet) -> list:
    return list(query.select_for_update().order_by("pk"))


def _record(result: PurgeResult, kind: str, label: str, pk: int) -> None:
    if len(result.listed) < MAX_LISTED:
        result.listed.append(f"{kind} {label} (id {pk})")


def _purge_skus(cutoff: datetime, result: PurgeResult) -> None:
    expired = SKU.all_objects.filter(is_deleted=True, deleted_at__lt=cutoff)
    result.kept["skus"] = expired.filter(_sku_holds_ledger()).count()
    skus = _lock(expired.exclude(_sku_holds_ledger()))
    ids = [sku.pk for sku in skus]
    for sku in skus:
        _record(result, "SKU", sku.sku_code, sku.pk)
    for start in range(0, len(ids), 1000):
        batch = ids[start : start + 1000]
        lock_levels_of(StockLevel.objects.filter(sku_id__in=batch))
        result.purged["stock_levels"] += StockLevel.objects.filter(sku_id__in=batch).delete()[0]
        SKU.all_objects.filter(pk__in=batch, is_deleted=True).delete()
    result.purged["skus"] = len(ids)


def _purge_products(cutoff: datetime, result: PurgeResult) -> None:
    expired = Product.all_objects.filter(is_deleted=True, deleted_at__lt=cutoff)
    has_skus = Q(Exists(SKU.all_objects.filter(product=OuterRef("pk"))))
    result.kept["products"] = expired.filter(has_skus).count()
    products = _lock(expired.exclude(has_skus))
    for product in products:
        _record(result, "product", product.name, product.pk)
    ids = [product.pk for product in products]
    for start in range(0, len(ids), 1000):
        Product.all_objects.filter(pk__in=ids[start : start + 1000], is_deleted=True).delete()
    result.purged["products"] = len(ids)


def _purge_categories(cutoff: datetime, result: PurgeResult) -> None:
    expired = Category.all_objects.filter(is_deleted=True, deleted_at__lt=cutoff)
    in_use = Q(Exists(Category.all_objects.filter(parent=OuterRef("pk")))) | Q(
        Exists(Product.all_objects.filter(category=OuterRef("pk")))
    )
    trees: set[int] = set()
    while True:  # leaves first: each round frees the parents of the one before
        leaves = list(expired.exclude(in_use).order_by("-level", "pk"))
        if not leaves:
            break
        for category in leaves:
            _record(result, "category", category.path, category.pk)
            trees.add(category.tree_id)
        Category.all_objects.filter(pk__in=[c.pk for c in leaves]).delete()
        result.purged["categories"] += len(leaves)
    result.kept["categories"] = expired.count()
    # Deleting rows leaves gaps in the mptt numbers: renumber the trees that lost nodes.
    for tree_id in sorted(trees):
        Category.all_objects.partial_rebuild(tree_id)


def _purge_warehouses(cutoff: datetime, result: PurgeResult) -> None:
    for warehouse in _lock(Warehouse.all_objects.filter(is_deleted=True, deleted_at__lt=cutoff)):
        if warehouse_hard_delete_refusal(warehouse) is not None:
            result.kept["warehouses"] += 1
            continue
        _record(result, "warehouse", warehouse.code, warehouse.pk)
        result.purged["stock_levels"] += warehouse_delete_for_good(warehouse)
        result.purged["warehouses"] += 1


@transaction.atomic
def soft_deleted_purge(*, older_than: timedelta, dry_run: bool = False, now: datetime | None = None) -> PurgeResult:
    """Hard-delete rows soft-deleted more than `older_than` ago that nothing needs any more.

    With `dry_run` the same deletes run and are rolled back, so the counts are exact.
    """
    cutoff = (now or timezone.now()) - older_than
    result = PurgeResult(dry_run=dry_run)
    category_tree_lock()  # first, as every tree writer does, before any row lock
    _purge_skus(cutoff, result)
    _purge_products(cutoff, result)
    _purge_categories(cutoff, result)
    _purge_warehouses(cutoff, result)
    if dry_run:
        transaction.set_rollback(True)
    return result
