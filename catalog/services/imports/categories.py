"""Import planning of categories: matched by their lower-cased path, new ones numbered for mptt."""

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.db.models import Max
from django.utils.text import slugify

from catalog.models import Category
from catalog.services.bulk_rows import allocate_ids
from catalog.services.imports.inserts import categories_insert
from catalog.services.imports.planned import NewCategory, PlannedCategory
from catalog.services.imports.rows import CatalogImportResult, CatalogRow
from inventory_site.validators import PATH_SEPARATOR


class CategoryPlanning:
    """`ImportPlan`'s categories, keyed by the lower-cased path tuple: matched, planned, then written."""

    # Set by `ImportPlan`, whose planning this is.
    rows: list[CatalogRow]
    unit: str
    result: CatalogImportResult
    error: Callable[[CatalogRow, str], None]

    def _categories(self) -> None:
        by_parent_name: dict[tuple[int | None, str], Category] = {}
        self.max_tree_id = 0
        for category in Category.all_objects.filter(is_deleted=False):
            by_parent_name[(category.parent_id, category.name.lower())] = category
        self.max_tree_id = Category.all_objects.aggregate(top=Max("tree_id"))["top"] or 0
        self.category_by_key: dict[tuple[str, ...], PlannedCategory] = {}
        self.new_categories: list[tuple[tuple[str, ...], NewCategory]] = []
        self.parent_of: dict[int, PlannedCategory | None] = {}
        self.changed_categories: dict[int, PlannedCategory] = {}
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
                key = self.key_of_path[row.category_path] = self._category_path_nodes(row.category_path, by_parent_name)
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
        parent: PlannedCategory | None = None
        key: tuple[str, ...] = ()
        for name in path:
            key = (*key, name.lower())
            node: PlannedCategory | None = self.category_by_key.get(key)
            if node is None:
                node = (
                    None
                    if parent is not None and parent.pk is None
                    else by_parent_name.get((parent.pk if parent else None, name.lower()))
                )
                if node is None:
                    # No `parent=`: a parent given as an object would be re-fetched once its
                    # id is set; `parent_of` keeps it instead.
                    node = NewCategory(
                        name=name,
                        slug=_category_slug(name),
                        path=f"{parent.path}{PATH_SEPARATOR}{name}" if parent else name,
                        level=len(key) - 1,
                    )
                    self.new_categories.append((key, node))
                    self.parent_of[id(node)] = parent
                self.category_by_key[key] = node
            parent = node
        return key

    def _write_categories(self) -> None:
        """Insert new categories parents first. Trees that are new as a whole get their mptt
        numbers here; existing trees that gained nodes are renumbered by mptt once each."""
        if not self.new_categories:
            return
        children: dict[int, list[NewCategory]] = {}
        for _key, node in self.new_categories:
            children.setdefault(id(self.parent_of[id(node)]), []).append(node)
        next_tree_id = self.max_tree_id
        for root in sorted(children.get(id(None), []), key=lambda n: n.name.lower()):
            next_tree_id += 1
            self._number(root, children, left=1, tree_id=next_tree_id)
        grown_trees: set[int] = set()
        by_depth: dict[int, list[NewCategory]] = {}
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
        categories_insert([node for depth in sorted(by_depth) for node in by_depth[depth]], NewCategory.COLUMNS)
        for tree_id in sorted(grown_trees):
            Category.all_objects.partial_rebuild(tree_id)

    def _number(self, node: NewCategory, children: dict[int, list[NewCategory]], *, left: int, tree_id: int) -> int:
        """Give `node` and its new descendants their mptt numbers (siblings by name); return its `rght`."""
        node.tree_id, node.lft = tree_id, left
        right = left + 1
        for child in sorted(children.get(id(node), []), key=lambda n: n.name.lower()):
            right = self._number(child, children, left=right, tree_id=tree_id) + 1
        node.rght = right
        return right


@lru_cache(maxsize=100_000)
def _category_slug(name: str) -> str:
    return slugify(name, allow_unicode=True)[:120]
