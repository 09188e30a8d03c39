"""The demo's products, SKUs and opening stock as plain rows, written in bulk batches."""

import random
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django.utils.text import slugify

from catalog.models import SKU, Category, Product
from catalog.services.bulk_rows import RowWriter, allocate_ids, history_rows_insert
from inventory_site.types import Actor
from stock.models import MovementReason, StockLevel, StockMovement, Warehouse
from stock.services.demo_data.tree import Node
from stock.services.demo_data.vocabulary import (
    ADJECTIVES,
    BRANDS,
    COLOR_CODES,
    COLORS,
    DEPARTMENTS,
    LINES,
    singular,
)

DEMO_SKU_PREFIX = "DM-"
BATCH_PRODUCTS = 1000
HISTORY_REASON = "Demo data (load_demo_data)"


class Generator:
    """Products, SKUs and stock as plain rows, from one seeded random source."""

    def __init__(
        self,
        *,
        rng: random.Random,
        leaves: list[Node],
        main: Warehouse,
        second: Warehouse,
        now: datetime,
        user: Actor = None,
    ) -> None:
        self.rng = rng
        self.user = user
        self.leaves = leaves
        self.main, self.second = main, second
        self.now = now
        self.product_number = 0
        self.names_used: set[tuple[int, str]] = set()
        stamps = {"created_at": now, "updated_at": now, "version": 1, "is_deleted": False, "deleted_at": None}
        self.products = RowWriter(Product, stamps)
        self.skus = RowWriter(SKU, {**stamps, "deleted_with_product": False})
        self.levels = RowWriter(StockLevel, {"reserved": 0, "version": 1, "updated_at": now})
        self.movements = RowWriter(
            StockMovement,
            {
                "reason": MovementReason.RECEIPT.value,
                "note": "Opening stock (demo data)",
                "reservation_id": None,
                "created_by_id": None,
                "created_at": now,
            },
        )
        self.sample_levels: list[tuple[int, int, int]] = []  # (sku_id, warehouse_id, on_hand)
        self.batch_ids: dict[type, list[int]] = {Product: [], SKU: []}  # written since the last history rows
        self.product_ids: list[int] = []
        self.sku_ids: list[int] = []

    def generate(self, total_skus: int, progress: Callable[[int], Any] | None) -> None:
        remaining = total_skus
        leaf_index = 0
        while remaining > 0:
            count = min(remaining, BATCH_PRODUCTS * 4)
            product_ids = allocate_ids(Product, BATCH_PRODUCTS)
            sku_ids = allocate_ids(SKU, count)
            made = 0
            for _ in range(BATCH_PRODUCTS):
                if made == count:
                    break
                leaf = self.leaves[leaf_index % len(self.leaves)]
                leaf_index += 1
                made += self._product(leaf, next(product_ids), sku_ids, count - made)
            for writer in (self.products, self.skus, self.levels, self.movements):
                writer.flush()
            for model, ids in self.batch_ids.items():
                history_rows_insert(model, ids, reason=HISTORY_REASON, user=self.user, when=self.now)
                ids.clear()
            remaining -= made
            if progress:
                progress(made)

    def _product(self, leaf: Node, product_id: int, sku_ids: Iterator[int], room: int) -> int:
        rng = self.rng
        self.product_number += 1
        code, _sections, (axis, axis_values), (low, high) = DEPARTMENTS[leaf.department]
        noun = singular(leaf.product_type)
        brand = rng.choice(BRANDS)
        name = f"{brand} {rng.choice(ADJECTIVES)} {noun}"
        if (id(leaf), name.lower()) in self.names_used:
            name = f"{name} {self.product_number}"
        self.names_used.add((id(leaf), name.lower()))
        base_price = Decimal(rng.randint(low, high)) + rng.choice((Decimal("0.99"), Decimal("0.49"), Decimal("0.00")))
        range_name = leaf.name if leaf.name in LINES else "core"
        self.product_ids.append(product_id)
        self.products.add(
            id=product_id,
            name=name,
            slug=slugify(name, allow_unicode=True)[:170],
            category_id=cast(Category, leaf.obj).pk,  # the tree is saved before its products
            description=f"{name}: a {noun.lower()} from the {brand} {range_name} range.",
            attributes={"brand": brand, "department": leaf.department},
        )
        self.batch_ids[Product].append(product_id)
        colors = rng.sample(COLORS, rng.randint(1, 3))
        start = rng.randrange(len(axis_values))
        sizes = axis_values[start : start + rng.randint(1, 4)]
        made = 0
        for color in colors:
            for size in sizes:
                if made == room:
                    return made
                sku_id = next(sku_ids)
                self.sku_ids.append(sku_id)
                sku_code = f"{DEMO_SKU_PREFIX}{code}-{self.product_number:07d}-{COLOR_CODES[color]}-{size.upper()}"
                price = base_price + (Decimal(20 * axis_values.index(size)) if axis == "capacity" else 0)
                self.skus.add(
                    id=sku_id,
                    sku_code=sku_code[:50],
                    product_id=product_id,
                    price=price,
                    attributes={"color": color.lower(), axis: size},
                )
                self.batch_ids[SKU].append(sku_id)
                self._stock(sku_id, product_id)
                made += 1
        return made

    def _stock(self, sku_id: int, product_id: int) -> None:
        rng = self.rng
        for warehouse, chance, most in ((self.main, 0.9, 150), (self.second, 0.45, 60)):
            if rng.random() >= chance:
                continue
            on_hand = rng.randint(1, most) if rng.random() > 0.1 else rng.randint(1, 4)
            threshold = rng.choice((0, 5, 5, 10))
            # Levels that are watched (a threshold) and running low get a reorder point, so the
            # reorder screen has suggestions on a fresh demo; no draw of `rng`, so a seed's
            # catalog and stock stay what they were.
            reorder = on_hand <= 2 * threshold
            self.levels.add(
                sku_id=sku_id,
                warehouse_id=warehouse.pk,
                on_hand=on_hand,
                low_stock_threshold=threshold,
                reorder_point=threshold * 2 if reorder else None,
                reorder_quantity=max(most // 2, 10) if reorder else None,
            )
            self.movements.add(
                sku_id=sku_id,
                warehouse_id=warehouse.pk,
                delta=on_hand,
                balance_after=on_hand,
                reference=f"PO-DEMO-{product_id:07d}",
            )
            if len(self.sample_levels) < 200 and on_hand >= 3:
                self.sample_levels.append((sku_id, warehouse.pk, on_hand))
