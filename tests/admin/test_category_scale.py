"""The category screen at 10k categories: one level per page, so time and queries stay flat.

Run with `-s` to see the figures: `pytest tests/admin/test_category_scale.py -s`.
"""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from catalog.models import Category

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ROOTS, CHILDREN, GRANDCHILDREN = 10, 10, 100  # 10 + 100 + 10,000 = 10,110 categories


def build_tree() -> int:
    """Bulk-insert a three-level tree with correct nested-set numbers (no per-row saves)."""
    now = timezone.now()
    rows = []

    def node(name, path, tree_id, level, lft, parent=None):
        obj = Category(
            name=name,
            slug=slugify(name),
            path=path,
            tree_id=tree_id,
            level=level,
            lft=lft,
            parent=parent,
            created_at=now,
        )
        rows.append(obj)
        return obj

    for r in range(ROOTS):
        tree_id, counter = r + 1, 1
        root = node(f"Root {r}", f"Root {r}", tree_id, 0, counter)
        root.rght = 2 * (1 + CHILDREN + CHILDREN * GRANDCHILDREN)
        Category.objects.bulk_create([root])
        rows.clear()
        counter += 1
        children = []
        for c in range(CHILDREN):
            child = node(f"Child {r}.{c}", f"Root {r}/Child {r}.{c}", tree_id, 1, counter, root)
            counter += 1
            for g in range(GRANDCHILDREN):
                leaf = node(f"Leaf {r}.{c}.{g}", f"{child.path}/Leaf {r}.{c}.{g}", tree_id, 2, counter)
                leaf.rght = counter + 1
                leaf._parent_ref = child
                counter += 2
            child.rght = counter
            counter += 1
            children.append(child)
        assert root.rght == counter
        Category.objects.bulk_create([c for c in rows if c.level == 1])
        for leaf in (c for c in rows if c.level == 2):
            leaf.parent = leaf._parent_ref
        Category.objects.bulk_create([c for c in rows if c.level == 2], batch_size=2000)
        rows.clear()
    return Category.objects.count()


def measure(client, url, params):
    client.get(url, params)  # warm caches (templates, content types)
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        response = client.get(url, params)
        elapsed = time.perf_counter() - start
    assert response.status_code == 200
    return elapsed, len(queries), len(response.context["cl"].result_list) if response.context.get("cl") else None


def test_category_screens_at_10k(staff_client):
    total = build_tree()
    assert total == ROOTS + ROOTS * CHILDREN + ROOTS * CHILDREN * GRANDCHILDREN
    url = reverse("admin:catalog_category_changelist")
    branch = Category.objects.get(name="Child 5.5")
    figures = {
        "top level": measure(staff_client, url, {}),
        "children of a node (100)": measure(staff_client, url, {"parent": branch.pk}),
        "all levels, page 50": measure(staff_client, url, {"parent": "all", "p": 50}),
        "search": measure(staff_client, url, {"q": "Leaf 5.5.1"}),
    }
    change_url = reverse("admin:catalog_category_change", args=[branch.pk])
    staff_client.get(change_url)
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        assert staff_client.get(change_url).status_code == 200
        figures["change form (parent by autocomplete)"] = (time.perf_counter() - start, len(queries), None)
    search = {"app_label": "catalog", "model_name": "category", "field_name": "parent", "term": "Leaf 5.5"}
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        found = staff_client.get(reverse("admin:autocomplete"), search)
        figures["parent autocomplete 'Leaf 5.5'"] = (
            time.perf_counter() - start,
            len(queries),
            len(found.json()["results"]),
        )
    for name, (seconds, queries, rows) in figures.items():
        print(f"\n{total} categories, {name}: {seconds * 1000:.0f} ms, {queries} queries, {rows} rows")
        assert queries <= 15
        assert seconds < 5.0  # generous: the CI box is shared; figures are printed with -s
