"""The demo category tree: which paths, their nodes, and mptt numbers computed here."""

import math
import random
from dataclasses import dataclass, field
from typing import cast

from django.utils.text import slugify

from catalog.models import Category
from stock.services.demo_data.vocabulary import DEPARTMENTS, LINES


@dataclass
class Node:
    """A category of the demo tree, before (and, once numbered, with) its `Category`."""

    name: str
    children: dict[str, "Node"] = field(default_factory=dict)
    department: str = ""
    product_type: str = ""
    obj: Category | None = None


def leaf_paths(leaves_wanted: int, rng: random.Random) -> list[tuple[str, ...]]:
    """About `leaves_wanted` leaf paths: 3 levels over every department, 4 (product lines) when many."""
    types = [
        (department, section, product_type)
        for department, (_code, sections, _axis, _prices) in DEPARTMENTS.items()
        for section, product_types in sections.items()
        for product_type in product_types
    ]
    if leaves_wanted <= len(types):
        # Spread a small catalog over every department.
        by_department: dict[str, list] = {}
        for path in types:
            by_department.setdefault(path[0], []).append(path)
        picked: list[tuple[str, ...]] = []
        pools = [rng.sample(paths, len(paths)) for paths in by_department.values()]
        while len(picked) < leaves_wanted:
            for pool in pools:
                if pool and len(picked) < leaves_wanted:
                    picked.append(pool.pop())
        return sorted(picked)
    lines_per_type = min(len(LINES), math.ceil(leaves_wanted / len(types)))
    return [(*path, line) for path in types for line in LINES[:lines_per_type]]


def build_tree(paths: list[tuple[str, ...]]) -> dict[str, Node]:
    """The roots of the tree the paths make."""
    roots: dict[str, Node] = {}
    for path in paths:
        level = roots
        for depth, name in enumerate(path):
            node = level.setdefault(name, Node(name=name, department=path[0]))
            if depth >= 2:
                node.product_type = path[2]
            level = node.children
    return roots


def number_tree(roots: dict[str, Node], first_tree_id: int) -> list[list[Category]]:
    """Category objects per depth with their mptt numbers, siblings in name order (as mptt orders them)."""
    levels: list[list[Category]] = []

    def visit(node: Node, parent: Category | None, depth: int, left: int, tree_id: int) -> int:
        category = Category(
            name=node.name,
            slug=slugify(node.name, allow_unicode=True)[:120],
            parent=parent,
            path=f"{parent.path}/{node.name}" if parent else node.name,
            tree_id=tree_id,
            level=depth,
            lft=left,
        )
        node.obj = category
        while len(levels) <= depth:
            levels.append([])
        levels[depth].append(category)
        right = left + 1
        for name in sorted(node.children, key=str.lower):
            right = visit(node.children[name], category, depth + 1, right, tree_id) + 1
        category.rght = right
        return right

    for index, name in enumerate(sorted(roots, key=str.lower)):
        visit(roots[name], None, 0, 1, first_tree_id + index)
    return levels


def leaves(roots: dict[str, Node]) -> list[Node]:
    """The leaves of the tree, in path order (once numbered)."""
    found: list[Node] = []
    stack = list(roots.values())
    while stack:
        node = stack.pop()
        if node.children:
            stack.extend(node.children.values())
        else:
            found.append(node)
    return sorted(found, key=lambda n: cast(Category, n.obj).path)  # numbered: each has its category
