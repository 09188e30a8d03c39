"""A realistic demo catalog, generated in bulk: a 3-4 level category tree, products with
colour/size SKU variants, stock in two warehouses received through `receipt`
movements, and a few active reservations.

Everything is written with `bulk_create` in batches inside one transaction, with the
mptt numbers computed here, so a million SKUs take minutes; the events of every object
written follow in the same transaction, in bulk. The output depends only on `skus` and
`seed`. Bulk writes skip `save()`: each category, product and SKU gets its initial
django-simple-history row from `history_rows_insert` ("Demo data" its reason), so its
first edit shows as a change and can be reverted.

It lives in `stock`, the app that builds on the catalog, since the demo is a catalog
with stock; the catalog knows nothing of stock. `vocabulary` holds the words, `tree` the
category tree, `generator` the products, SKUs and opening stock.
"""

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from catalog.events import emit_bulk_writes
from catalog.models import SKU, Category, Product
from catalog.services.bulk_rows import history_rows_insert
from catalog.services.categories import category_tree_lock
from inventory_site.exceptions import InvalidInput
from inventory_site.types import Actor
from stock.events import emit_loaded_levels
from stock.models import (
    Reservation,
    ReservationLine,
    StockLevel,
    StockMovement,
    Warehouse,
)
from stock.services.demo_data.generator import (
    DEMO_SKU_PREFIX,
    HISTORY_REASON,
    Generator,
)
from stock.services.demo_data.tree import build_tree, leaf_paths, leaves, number_tree
from stock.services.reservations import ReservationRequestLine, reservation_create
from stock.services.warehouses import warehouse_create

__all__ = [
    "DEMO_SKU_PREFIX",
    "HISTORY_REASON",
    "DemoResult",
    "demo_catalog_exists",
    "demo_catalog_load",
    "planner_statistics_refresh",
]

SECOND_WAREHOUSE = ("EAST", "East distribution centre")
PRODUCTS_PER_LEAF = 25
BATCH_SIZE = 5000


@dataclass
class DemoResult:
    """Rows written by `demo_catalog_load`; `skipped` when the demo catalog was already there."""

    skipped: bool = False
    categories: int = 0
    products: int = 0
    skus: int = 0
    levels: int = 0
    movements: int = 0
    reservations: int = 0
    events: int = 0  # of the bulk writes (the reservations write their own)


def demo_catalog_exists() -> bool:
    """Whether demo SKUs are stored (deleted ones included)."""
    return SKU.all_objects.filter(sku_code__startswith=DEMO_SKU_PREFIX).exists()


def _second_warehouse(user: Actor) -> Warehouse:
    code, name = SECOND_WAREHOUSE
    existing = Warehouse.all_objects.filter(code=code).first()
    if existing is not None:
        return existing
    return warehouse_create(code=code, name=name, user=user)


def _reserve_a_few(sample: list[tuple[int, int, int]], rng: random.Random, count: int, user: Actor) -> int:
    """A few active reservations through the reservation service, on levels that have stock."""
    skus = SKU.objects.in_bulk([sku_id for sku_id, _, _ in sample])
    warehouses = Warehouse.objects.in_bulk([warehouse_id for _, warehouse_id, _ in sample])
    candidates = list(sample)
    made = 0
    for number in range(1, count + 1):
        if not candidates:
            break
        picked = rng.sample(candidates, min(len(candidates), rng.randint(1, 3)))
        lines = [
            ReservationRequestLine(sku=skus[sku_id], warehouse=warehouses[warehouse_id], quantity=rng.randint(1, 2))
            for sku_id, warehouse_id, _ in picked
        ]
        reservation_create(reference=f"ORDER-DEMO-{number:04d}", lines=lines, ttl_seconds=7 * 24 * 3600, user=user)
        candidates = [level for level in candidates if level not in picked]
        made += 1
    return made


@transaction.atomic
def demo_catalog_load(
    *,
    skus: int = 200,
    seed: int = 42,
    user: Actor = None,
    progress: Callable[[int], Any] | None = None,
) -> DemoResult:
    """Write the demo catalog with `skus` SKUs, unless demo SKUs are already stored (then skip).

    Raises `InvalidInput` when a top-level category of the demo already exists.
    """
    if skus < 1:
        raise InvalidInput("skus must be at least 1.")
    category_tree_lock()
    if demo_catalog_exists():
        return DemoResult(skipped=True)
    rng = random.Random(seed)
    paths = leaf_paths(max(6, math.ceil(skus / (PRODUCTS_PER_LEAF * 4))), rng)
    roots = build_tree(paths)
    taken = list(Category.objects.filter(parent=None, name__in=list(roots)).values_list("name", flat=True))
    if taken:
        raise InvalidInput(
            f"The catalog already has top-level categories named {', '.join(taken)}; "
            "load the demo into a catalog without them."
        )
    first_tree_id = (Category.all_objects.aggregate(top=Max("tree_id"))["top"] or 0) + 1
    result = DemoResult()
    now = timezone.now()
    category_ids = []
    for depth_rows in number_tree(roots, first_tree_id):
        for category in depth_rows:
            category.parent_id = category.parent.pk if category.parent else None
        Category.all_objects.bulk_create(depth_rows, batch_size=BATCH_SIZE)
        history_rows_insert(Category, [c.pk for c in depth_rows], reason=HISTORY_REASON, user=user, when=now)
        result.categories += len(depth_rows)
        category_ids += [category.pk for category in depth_rows]

    main = Warehouse.objects.filter(is_default=True).first() or Warehouse.objects.get(code="MAIN")
    generator = Generator(rng=rng, leaves=leaves(roots), main=main, second=_second_warehouse(user), now=now, user=user)
    generator.generate(skus, progress)
    result.products = generator.products.written
    result.skus = generator.skus.written
    result.levels = generator.levels.written
    result.movements = generator.movements.written
    # The events of everything written in bulk, in the same transaction (one COPY each).
    result.events = emit_bulk_writes(
        categories=[(pk, "created") for pk in category_ids],
        products=[(pk, "created") for pk in generator.product_ids],
        skus=[(pk, "created") for pk in generator.sku_ids],
    ) + emit_loaded_levels(sku_ids=generator.sku_ids)
    result.reservations = _reserve_a_few(generator.sample_levels, rng, min(8, max(2, skus // 25)), user)
    return result


def planner_statistics_refresh() -> None:
    """ANALYZE the tables a bulk load filled. Without statistics PostgreSQL plans the admin's
    lists as if the tables were empty (about 90 s instead of 0.3 s for the products page at
    100k SKUs) until autovacuum gets round to them."""
    with connection.cursor() as cursor:
        for model in (Category, Product, SKU, StockLevel, StockMovement, Reservation, ReservationLine):
            cursor.execute(f'ANALYZE "{model._meta.db_table}"')
