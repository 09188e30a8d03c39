"""Matching checked rows to the stored catalog and writing the differences in bulk.

The matching is done per kind of row (`categories`, `products`, `skus`), the inserting of
new rows in `inserts`, the updating of changed ones in `updates`.
"""

from collections.abc import Callable, Iterable
from typing import Any, cast

from django.utils import timezone

from catalog.models import SKU, Category, Product
from catalog.services.bulk_rows import (
    BATCH_SIZE,
    allocate_ids,
    chunks,
    history_rows_insert,
)
from catalog.services.imports.categories import CategoryPlanning
from catalog.services.imports.inserts import new_rows_copy
from catalog.services.imports.products import NewProduct, ProductPlanning, StoredRow
from catalog.services.imports.rows import CatalogImportResult, CatalogRow
from catalog.services.imports.skus import SkuPlanning
from catalog.services.imports.updates import rows_update
from inventory_site.types import Actor

HISTORY_REASON = "Catalog import"


class ImportPlan(CategoryPlanning, ProductPlanning, SkuPlanning):
    """Matches rows to stored objects and collects what to create and update."""

    def __init__(self, rows: list[CatalogRow], unit: str):
        self.rows = rows
        self.unit = unit
        self.errors: dict[str, str] = {}
        self.result = CatalogImportResult(rows=len(rows))

    def error(self, row: CatalogRow, message: str) -> None:
        key = f"{self.unit} {row.line}"
        self.errors[key] = f"{self.errors[key]}; {message}" if key in self.errors else message

    def build(self) -> None:
        self._categories()
        self._products()
        self._skus()

    # --- writes, parents before children ---

    def write(self, progress: Callable[[int], Any] | None, user: Actor = None) -> None:
        now = timezone.now()
        self._write_categories()
        rows_update(Category, list(self.changed_categories.values()), ["description", "attributes"])
        stamps = {"created_at": now, "updated_at": now, "version": 1, "is_deleted": False, "deleted_at": None}
        product_ids = allocate_ids(Product, len(self.new_products))
        # In name order (ids still ascending): the five name and slug indexes then take
        # mostly appends at their right edge, which PostgreSQL does much faster.
        new_products = sorted(self.new_products, key=_name_order)
        for product in new_products:
            product.pk = next(product_ids)
        # And SKUs in code order, for the same reason (the two code indexes).
        self.new_skus.sort(key=_code_order)
        sku_ids = allocate_ids(SKU, len(self.new_skus))
        self.new_sku_ids = [next(sku_ids) for _ in self.new_skus]
        sku_stamps = {**stamps, "deleted_with_product": False}
        new_rows_copy(new_products, self.new_skus, self.new_sku_ids, stamps, sku_stamps, progress)
        rows_update(Product, list(self.changed_products.values()), ["description", "attributes"])
        changed = [
            StoredRow(
                pk=sku_id,
                sku_code=code,
                product_id=product.pk,
                price=row.price,
                attributes=row.attributes,
                backorder_policy=policy,
            )
            for row, product, sku_id, code, policy in self.changed_skus
        ]
        rows_update(SKU, changed, ["price", "attributes", "product", "backorder_policy"], progress=progress)
        self._write_history(new_products, changed, user)

    def _write_history(self, new_products: list[NewProduct], changed_skus: list[StoredRow], user: Actor) -> None:
        """The django-simple-history rows that `save()` would have written: "+" for each row
        created, "~" for each row changed, all with the reason "Catalog import"."""
        for model, history_type, ids in (
            (Category, "+", _written_ids(node.pk for _key, node in self.new_categories)),
            (Category, "~", list(self.changed_categories)),
            (Product, "+", _written_ids(product.pk for product in new_products)),
            (Product, "~", list(self.changed_products)),
            (SKU, "+", self.new_sku_ids),
            (SKU, "~", [sku.pk for sku in changed_skus]),
        ):
            history_rows_insert(model, ids, reason=HISTORY_REASON, user=user, history_type=history_type)

    def written(self) -> dict[str, list[tuple[int, str]]]:
        """After `write`: `(id, "created"|"updated")` of every category, product and SKU written, in order."""
        new_codes = [_code(row) for row, _product in self.new_skus]
        ids_by_code: dict[str, int] = {}
        for codes in chunks(new_codes, BATCH_SIZE):
            ids_by_code.update(SKU._base_manager.filter(sku_code__in=codes).values_list("sku_code", "id"))
        return {
            "categories": [(pk, "created") for pk in _written_ids(node.pk for _key, node in self.new_categories)]
            + [(pk, "updated") for pk in self.changed_categories],
            "products": [(pk, "created") for pk in _written_ids(product.pk for product in self.new_products)]
            + [(pk, "updated") for pk in self.changed_products],
            "skus": [(ids_by_code[code], "created") for code in new_codes]
            + [(sku_id, "updated") for _row, _product, sku_id, _code, _policy in self.changed_skus],
        }


def _name_order(product: NewProduct) -> str:
    return product.name.lower()


def _code_order(new_sku: tuple[CatalogRow, Any]) -> str:
    return _code(new_sku[0]).lower()


def _code(row: CatalogRow) -> str:
    """The code of a row planned as a SKU (rows without one are never)."""
    return cast(str, row.sku_code)


def _written_ids(pks: Iterable[int | None]) -> list[int]:
    """The ids of new rows, which `write` gave them (they have none before)."""
    return cast(list[int], list(pks))
