"""Matching checked rows to the stored catalog and writing the differences in bulk."""
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Max
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from catalog.models import SKU, BackorderPolicy, Category, Product
from catalog.services.bulk_rows import (
    BATCH_SIZE, RowWriter, allocate_ids, copy_cell, copy_text_rows, history_rows_insert,
)
from catalog.services.imports.rows import CatalogImportResult, CatalogRow
from catalog.services.imports.updates import rows_update
from inventory_site.validators import PATH_SEPARATOR

HISTORY_REASON = "Catalog import"
DEFAULT_POLICY = BackorderPolicy.DENY.value  # a new SKU whose row leaves backorder_policy empty


def _chunks(items: list, size: int = BATCH_SIZE) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class _Row(SimpleNamespace):
    """A stored row read as plain values (id in `pk`): much cheaper than a model instance."""


@dataclass(eq=False)
class _NewCategory:
    """A category to create: its columns, without a model instance (10k of them are common)."""

    name: str
    slug: str
    path: str
    level: int
    description: str = ""
    attributes: dict = field(default_factory=dict)
    pk: int | None = None
    parent_id: int | None = None
    lft: int = 0
    rght: int = 0
    tree_id: int = 0

    COLUMNS = ("id", "name", "slug", "description", "parent_id", "path", "attributes", "lft", "rght", "tree_id",
               "level")


@dataclass(eq=False)
class _NewProduct:
    """A product to create (lighter than a model instance; 100k of them are common)."""

    name: str
    category: Category
    description: str = ""
    attributes: dict = field(default_factory=dict)
    pk: int | None = None


class ImportPlan:
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

    # Categories are keyed by the lower-cased path tuple.
    def _categories(self) -> None:
        by_parent_name: dict[tuple[int | None, str], Category] = {}
        self.max_tree_id = 0
        for category in Category.all_objects.filter(is_deleted=False):
            by_parent_name[(category.parent_id, category.name.lower())] = category
        self.max_tree_id = Category.all_objects.aggregate(top=Max("tree_id"))["top"] or 0
        self.category_by_key: dict[tuple[str, ...], Category] = {}
        self.new_categories: list[tuple[tuple[str, ...], Category]] = []
        self.parent_of: dict[int, Category | None] = {}
        self.changed_categories: dict[int, Category] = {}
        given: dict[tuple[str, ...], dict[str, tuple[Any, int]]] = {}
        # Rows share a few thousand paths: each distinct path tuple is walked once.
        self.key_of_path: dict[tuple[str, ...], tuple[str, ...]] = {}
        # A row repeating the previous one's category cells (the same checked objects, which
        # the row checker shares between equal cells) would change nothing: skipped, unless
        # the previous row was in error.
        last: tuple | None = None
        for row in self.rows:
            cells = (row.category_path, row.category_description, row.category_attributes)
            if last is not None and cells[0] is last[0] and cells[1] is last[1] and cells[2] is last[2]:
                continue
            last = cells
            key = self.key_of_path.get(row.category_path)
            if key is None:
                key = self.key_of_path[row.category_path] = self._category_path_nodes(
                    row.category_path, by_parent_name
                )
            if row.category_description is None and row.category_attributes is None:
                continue
            parent = self.category_by_key[key]
            for attr in ("description", "attributes"):
                value = getattr(row, f"category_{attr}")
                if value is None:
                    continue
                first = given.setdefault(key, {}).setdefault(attr, (value, row.line))
                if first[0] != value:
                    self.error(row, f"category_{attr} differs from {self.unit} {first[1]} for the same category")
                    last = None
                elif first[1] == row.line and getattr(parent, attr) != value:
                    setattr(parent, attr, value)
                    if parent.pk is not None:
                        self.changed_categories[parent.pk] = parent
        counts = self.result.categories
        counts.created = len(self.new_categories)
        counts.updated = len(self.changed_categories)
        counts.unchanged = sum(1 for c in self.category_by_key.values() if c.pk is not None) - counts.updated

    def _category_path_nodes(
        self, path: tuple[str, ...], by_parent_name: dict[tuple[int | None, str], Category]
    ) -> tuple[str, ...]:
        """Find or plan the categories along `path`; return its key (the lower-cased names)."""
        parent: Category | None = None
        key: tuple[str, ...] = ()
        for name in path:
            key = (*key, name.lower())
            node = self.category_by_key.get(key)
            if node is None:
                node = None if parent is not None and parent.pk is None else by_parent_name.get(
                    (parent.pk if parent else None, name.lower())
                )
                if node is None:
                    # No `parent=`: a parent given as an object would be re-fetched once its
                    # id is set; `parent_of` keeps it instead.
                    node = _NewCategory(
                        name=name, slug=_category_slug(name),
                        path=f"{parent.path}{PATH_SEPARATOR}{name}" if parent else name, level=len(key) - 1,
                    )
                    self.new_categories.append((key, node))
                    self.parent_of[id(node)] = parent
                self.category_by_key[key] = node
            parent = node
        return key

    def _products(self) -> None:
        existing_ids = sorted({c.pk for c in self.category_by_key.values() if c.pk is not None})
        stored: dict[tuple[int, str], list[_Row]] = {}
        for ids in _chunks(existing_ids, 1000):
            for pk, category_id, name, description, attributes in Product.objects.filter(
                category_id__in=ids
            ).values_list("pk", "category_id", "name", "description", "attributes"):
                product = _Row(pk=pk, category_id=category_id, name=name, description=description,
                               attributes=attributes)
                stored.setdefault((category_id, name.lower()), []).append(product)
        self.product_by_key: dict[tuple[tuple[str, ...], str], _Row | _NewProduct] = {}
        self.product_of_row: dict[int, _Row | _NewProduct] = {}
        self.new_products: list[_NewProduct] = []
        self.changed_products: dict[int, _Row] = {}
        given: dict[tuple, dict[str, tuple[Any, int]]] = {}
        last: tuple | None = None  # as for categories: a row repeating the previous one's cells
        for row in self.rows:
            if not row.product_name:
                continue
            cells = (row.category_path, row.product_name, row.product_description, row.product_attributes)
            if last is not None and cells[0] is last[0] and cells[1] is last[1] and cells[2] is last[2] \
                    and cells[3] is last[3]:
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
                    product = _NewProduct(name=row.product_name, category=category)
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

    def _skus(self) -> None:
        sku_rows = [row for row in self.rows if row.sku_code]
        # Plain tuples, no locks: most rows of a re-import are unchanged. The rows to
        # update are locked (and their version read) just before writing.
        stored: dict[str, tuple] = {}
        codes = [row.sku_code.lower() for row in sku_rows]
        postgres = connection.vendor == "postgresql"
        if not SKU.all_objects.exists():
            codes = []  # an empty catalog (a first load): nothing to match
        for batch in _chunks(codes, 20000 if postgres else 5000):
            if postgres:
                # One array parameter instead of 20,000: far cheaper to send and to plan.
                query = SKU.all_objects.filter(
                    RawSQL('LOWER("catalog_sku"."sku_code") = ANY(%s)', (batch,), output_field=BooleanField())
                )
            else:
                query = SKU.all_objects.annotate(code_ci=Lower("sku_code")).filter(code_ci__in=batch)
            for values in query.values_list("id", "sku_code", "product_id", "price", "attributes", "is_deleted",
                                            "backorder_policy"):
                stored[values[1].lower()] = values
        self.new_skus: list[tuple[CatalogRow, _NewProduct | _Row]] = []
        # row, product, id, stored code, the policy to store (the row's, else the stored one)
        self.changed_skus: list[tuple[CatalogRow, _NewProduct | _Row, int, str, str]] = []
        counts = self.result.skus
        for row in sku_rows:
            product = self.product_of_row.get(row.line)
            if product is None:
                continue  # the product row is already in error
            found = stored.get(row.sku_code.lower())
            if found is None:
                self.new_skus.append((row, product))
                continue
            sku_id, code, product_id, price, attributes, is_deleted, stored_policy = found
            if is_deleted:
                self.error(row, f"sku_code {row.sku_code!r} belongs to a deleted SKU (id {sku_id}); "
                                "restore or purge it first")
                continue
            policy = stored_policy if row.backorder_policy is None else row.backorder_policy
            if price == row.price and attributes == row.attributes and product_id == product.pk \
                    and product.pk is not None and policy == stored_policy:
                counts.unchanged += 1
                continue
            self.changed_skus.append((row, product, sku_id, code, policy))
        counts.created = len(self.new_skus)
        counts.updated = len(self.changed_skus)

    # --- writes, parents before children ---

    def write(self, progress: Callable[[int], Any] | None, user=None) -> None:
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
        if connection.vendor == "postgresql":
            self._copy_new_rows(new_products, stamps, sku_stamps, progress)
        else:
            products = RowWriter(Product, stamps)
            for product in new_products:
                products.add(id=product.pk, name=product.name, slug=_product_slug(product.name),
                             category_id=product.category.pk,
                             description=product.description, attributes=product.attributes)
            products.flush()
        rows_update(Product, list(self.changed_products.values()), ["description", "attributes"])
        if connection.vendor != "postgresql":
            skus = RowWriter(SKU, sku_stamps)
            for batch, ids in zip(_chunks(self.new_skus), _chunks(self.new_sku_ids)):
                for (row, product), sku_id in zip(batch, ids):
                    skus.add(id=sku_id, sku_code=row.sku_code, product_id=product.pk, price=row.price,
                             attributes=row.attributes, backorder_policy=row.backorder_policy or DEFAULT_POLICY)
                if progress:
                    progress(len(batch))
            skus.flush()
        changed = [
            _Row(pk=sku_id, sku_code=code, product_id=product.pk, price=row.price, attributes=row.attributes,
                 backorder_policy=policy)
            for row, product, sku_id, code, policy in self.changed_skus
        ]
        rows_update(SKU, changed, ["price", "attributes", "product", "backorder_policy"], progress=progress)
        self._write_history(new_products, changed, user)

    def _write_history(self, new_products: list[_NewProduct], changed_skus: list[_Row], user) -> None:
        """The django-simple-history rows that `save()` would have written: "+" for each row
        created, "~" for each row changed, all with the reason "Catalog import"."""
        for model, history_type, ids in (
            (Category, "+", [node.pk for _key, node in self.new_categories]),
            (Category, "~", list(self.changed_categories)),
            (Product, "+", [product.pk for product in new_products]),
            (Product, "~", list(self.changed_products)),
            (SKU, "+", self.new_sku_ids),
            (SKU, "~", [sku.pk for sku in changed_skus]),
        ):
            history_rows_insert(model, ids, reason=HISTORY_REASON, user=user, history_type=history_type)

    def written(self) -> dict[str, list[tuple[int, str]]]:
        """After `write`: `(id, "created"|"updated")` of every category, product and SKU written, in order."""
        new_codes = [row.sku_code for row, _product in self.new_skus]
        ids_by_code: dict[str, int] = {}
        for start in range(0, len(new_codes), BATCH_SIZE):
            ids_by_code.update(SKU._base_manager.filter(sku_code__in=new_codes[start:start + BATCH_SIZE])
                               .values_list("sku_code", "id"))
        return {
            "categories": [(node.pk, "created") for _key, node in self.new_categories]
            + [(pk, "updated") for pk in self.changed_categories],
            "products": [(product.pk, "created") for product in self.new_products]
            + [(pk, "updated") for pk in self.changed_products],
            "skus": [(ids_by_code[code], "created") for code in new_codes]
            + [(sku_id, "updated") for _row, _product, sku_id, _code, _policy in self.changed_skus],
        }

    def _copy_new_rows(self, new_products: list[_NewProduct], stamps: dict, sku_stamps: dict,
                       progress: Callable[[int], Any] | None) -> None:
        """PostgreSQL: the new products, then the new SKUs, each in one COPY of text made here.

        No dict per row: the cells are formatted straight into COPY's text format (a SKU
        code passed `catalog.rules.sku_code_checked`, ids are ints, prices quantized Decimals and policies
        `catalog.rules.backorder_policy_checked`'s words: none needs escaping; the table's check constraint
        refuses any other policy all the same). Attribute dicts are shared by many rows and dumped once each.
        """
        json_cells: dict[int, str] = {}

        def json_cell(value: dict) -> str:
            cell = json_cells.get(id(value))
            if cell is None:
                cell = json_cells[id(value)] = copy_cell(json.dumps(value))
            return cell

        def product_lines() -> Iterator[list[str]]:
            for batch in _chunks(new_products):
                yield [
                    f"{p.pk}\t{copy_cell(p.name)}\t{copy_cell(_product_slug(p.name))}\t{p.category.pk}\t"
                    f"{copy_cell(p.description)}\t{json_cell(p.attributes)}\n"
                    for p in batch
                ]

        copy_text_rows(Product, stamps, ["id", "name", "slug", "category_id", "description", "attributes"],
                       product_lines())

        def sku_lines() -> Iterator[list[str]]:
            for batch, ids in zip(_chunks(self.new_skus), _chunks(self.new_sku_ids)):
                yield [
                    f"{sku_id}\t{row.sku_code}\t{product.pk}\t{row.price}\t{json_cell(row.attributes)}\t"
                    f"{row.backorder_policy or DEFAULT_POLICY}\n"
                    for (row, product), sku_id in zip(batch, ids)
                ]
                if progress:
                    progress(len(batch))

        copy_text_rows(SKU, sku_stamps, ["id", "sku_code", "product_id", "price", "attributes", "backorder_policy"],
                       sku_lines())

    def _write_categories(self) -> None:
        """Insert new categories parents first. Trees that are new as a whole get their mptt
        numbers here; existing trees that gained nodes are renumbered by mptt once each."""
        if not self.new_categories:
            return
        children: dict[int, list[Category]] = {}
        for _key, node in self.new_categories:
            children.setdefault(id(self.parent_of[id(node)]), []).append(node)
        next_tree_id = self.max_tree_id
        for root in sorted(children.get(id(None), []), key=lambda n: n.name.lower()):
            next_tree_id += 1
            self._number(root, children, left=1, tree_id=next_tree_id)
        grown_trees: set[int] = set()
        by_depth: dict[int, list[Category]] = {}
        for key, node in self.new_categories:
            by_depth.setdefault(len(key), []).append(node)
        ids = allocate_ids(Category, len(self.new_categories))
        for depth in sorted(by_depth):  # parents first, so that a parent has its id
            for node in by_depth[depth]:
                node.pk = next(ids)
                parent = self.parent_of[id(node)]
                if parent is None:
                    continue
                node.parent_id = parent.pk
                if not node.tree_id:  # under a category that was there before
                    node.tree_id = parent.tree_id
                    grown_trees.add(parent.tree_id)
        self._insert_categories([node for depth in sorted(by_depth) for node in by_depth[depth]])
        for tree_id in sorted(grown_trees):
            Category.all_objects.partial_rebuild(tree_id)

    @staticmethod
    def _insert_categories(nodes: list[_NewCategory]) -> None:
        """Write new categories (ids and mptt numbers set), parents before children."""
        now = timezone.now()
        stamps = {"created_at": now, "updated_at": now, "version": 1, "is_deleted": False, "deleted_at": None}
        if connection.vendor != "postgresql":
            for batch in _chunks(nodes):
                Category.all_objects.bulk_create([
                    Category(**stamps, **{"id" if c == "id" else c: getattr(n, "pk" if c == "id" else c)
                                          for c in _NewCategory.COLUMNS})
                    for n in batch
                ])
            return
        json_cells: dict[int, str] = {}

        def cell(value: Any) -> str:
            if isinstance(value, dict):
                text = json_cells.get(id(value))
                if text is None:
                    text = json_cells[id(value)] = copy_cell(json.dumps(value))
                return text
            return copy_cell(value)

        def lines() -> Iterator[list[str]]:
            for batch in _chunks(nodes):
                yield [
                    "\t".join([cell(n.pk), cell(n.name), cell(n.slug), cell(n.description), cell(n.parent_id),
                                cell(n.path), cell(n.attributes), cell(n.lft), cell(n.rght), cell(n.tree_id),
                                cell(n.level)]) + "\n"
                    for n in batch
                ]

        copy_text_rows(Category, stamps, list(_NewCategory.COLUMNS), lines())

    def _number(self, node: Category, children: dict[int, list[Category]], *, left: int, tree_id: int) -> int:
        """Give `node` and its new descendants their mptt numbers (siblings by name); return its `rght`."""
        node.tree_id, node.lft = tree_id, left
        right = left + 1
        for child in sorted(children.get(id(node), []), key=lambda n: n.name.lower()):
            right = self._number(child, children, left=right, tree_id=tree_id) + 1
        node.rght = right
        return right


def _name_order(product: _NewProduct) -> str:
    return product.name.lower()


def _code_order(new_sku: tuple[CatalogRow, Any]) -> str:
    return new_sku[0].sku_code.lower()


@lru_cache(maxsize=100_000)
def _category_slug(name: str) -> str:
    return slugify(name, allow_unicode=True)[:120]


@lru_cache(maxsize=100_000)
def _product_slug(name: str) -> str:
    """Products in different categories often share a name: slugify each name once."""
    return slugify(name, allow_unicode=True)[:170]
