"""Import planning of products: matched by name within their category, case-insensitively."""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from django.utils.text import slugify

from catalog.models import Product
from catalog.services.bulk_rows import chunks
from catalog.services.imports.planned import PlannedCategory
from catalog.services.imports.rows import CatalogImportResult, CatalogRow


class StoredRow(SimpleNamespace):
    """A stored row read as plain values (id in `pk`): much cheaper than a model instance."""


@dataclass(eq=False)
class NewProduct:
    """A product to create (lighter than a model instance; 100k of them are common)."""

    name: str
    category: PlannedCategory
    description: str = ""
    attributes: dict = field(default_factory=dict)
    pk: int | None = None


class ProductPlanning:
    """`ImportPlan`'s products, after its categories: which rows create, change or keep a product."""

    # Set by `ImportPlan`, whose planning this is.
    rows: list[CatalogRow]
    unit: str
    result: CatalogImportResult
    error: Callable[[CatalogRow, str], None]
    # Set by `CategoryPlanning`, which runs first.
    category_by_key: dict[tuple[str, ...], PlannedCategory]
    key_of_path: dict[tuple[str, ...], tuple[str, ...]]

    def _products(self) -> None:
        existing_ids = sorted({c.pk for c in self.category_by_key.values() if c.pk is not None})
        stored: dict[tuple[int, str], list[StoredRow]] = {}
        for ids in chunks(existing_ids, 1000):
            for pk, category_id, name, description, attributes in Product.objects.filter(
                category_id__in=ids
            ).values_list("pk", "category_id", "name", "description", "attributes"):
                stored_row = StoredRow(
                    pk=pk, category_id=category_id, name=name, description=description, attributes=attributes
                )
                stored.setdefault((category_id, name.lower()), []).append(stored_row)
        self.product_by_key: dict[tuple[tuple[str, ...], str], StoredRow | NewProduct] = {}
        self.product_of_row: dict[int, StoredRow | NewProduct] = {}
        self.new_products: list[NewProduct] = []
        self.changed_products: dict[int, StoredRow | NewProduct] = {}
        given: dict[tuple, dict[str, tuple[Any, int]]] = {}
        last: tuple | None = None  # as for categories: a row repeating the previous one's cells
        for row in self.rows:
            if not row.product_name:
                continue
            cells = (row.category_path, row.product_name, row.product_description, row.product_attributes)
            if (
                last is not None
                and cells[0] is last[0]
                and cells[1] is last[1]
                and cells[2] is last[2]
                and cells[3] is last[3]
            ):
                self.product_of_row[row.line] = last[4]
                continue
            last = None
            category_key = self.key_of_path[row.category_path]
            category = self.category_by_key[category_key]
            key = (category_key, row.product_name.lower())
            product = self.product_by_key.get(key)
            if product is None:
                matches = stored.get((category.pk, row.product_name.lower()), []) if category.pk else []
                if len(matches) > 1:
                    self.error(row, f"{len(matches)} products are named {row.product_name!r} in this category")
                    continue
                if matches:
                    product = matches[0]
                else:
                    product = NewProduct(name=row.product_name, category=category)
                    self.new_products.append(product)
                self.product_by_key[key] = product
            self.product_of_row[row.line] = product
            last = (*cells, product)
            for attr in ("description", "attributes"):
                value = getattr(row, f"product_{attr}")
                if value is None:
                    continue
                first = given.setdefault(key, {}).setdefault(attr, (value, row.line))
                if first[0] != value:
                    self.error(row, f"product_{attr} differs from {self.unit} {first[1]} for the same product")
                    last = None
                elif first[1] == row.line and getattr(product, attr) != value:
                    setattr(product, attr, value)
                    if product.pk is not None:
                        self.changed_products[product.pk] = product
        counts = self.result.products
        counts.created = len(self.new_products)
        counts.updated = len(self.changed_products)
        counts.unchanged = len(self.product_by_key) - counts.created - counts.updated


@lru_cache(maxsize=100_000)
def product_slug(name: str) -> str:
    """Products in different categories often share a name: slugify each name once."""
    return slugify(name, allow_unicode=True)[:170]
