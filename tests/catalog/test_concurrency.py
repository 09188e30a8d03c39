"""Concurrent catalog writes on PostgreSQL: the tree stays sound, versions let one writer win."""

import random
import threading

import pytest
from django.db import connection

from catalog import services
from catalog.exceptions import DomainError
from catalog.models import Category
from tests.catalog.factories import CategoryFactory
from tests.conftest import token_client
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


def run_in_threads(workers):
    """Start every worker at once; each closes its connection when done. Re-raise the first error."""
    barrier = threading.Barrier(len(workers))
    errors = []

    def wrap(work):
        try:
            barrier.wait()
            work()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]


def tree_snapshot():
    return list(Category.all_objects.order_by("pk").values_list("pk", "tree_id", "lft", "rght", "level"))


def assert_tree_sound():
    """Intervals nest properly, and the tree equals what mptt rebuilds from the parent links."""
    rows = {c.pk: c for c in Category.all_objects.all()}
    for c in rows.values():
        assert c.lft < c.rght
        if c.parent_id:
            p = rows[c.parent_id]
            assert (p.tree_id, p.level + 1) == (c.tree_id, c.level) and p.lft < c.lft and c.rght < p.rght
            assert c.path == f"{p.path}/{c.name}"
        else:
            assert c.level == 0 and c.lft == 1 and c.path == c.name
    per_tree = {}
    for c in rows.values():
        per_tree.setdefault(c.tree_id, []).extend([c.lft, c.rght])
    for bounds in per_tree.values():
        assert sorted(bounds) == list(range(1, len(bounds) + 1))
    before = [row[2:] for row in tree_snapshot()]
    Category.all_objects.rebuild()
    # rebuild orders siblings by name; compare the shape (sizes and levels), which must not change
    after = [row[2:] for row in tree_snapshot()]
    assert [(r - lft, lv) for lft, r, lv in before] == [(r - lft, lv) for lft, r, lv in after]


def test_concurrent_inserts_and_moves_keep_the_tree_sound():
    roots = [CategoryFactory(name=f"Root {i}") for i in range(3)]
    seeds = [CategoryFactory(name=f"Seed {i}", parent=roots[i % 3]) for i in range(6)]
    ids = [c.pk for c in roots + seeds]

    def inserter(n):
        def work():
            rng = random.Random(n)
            for i in range(8):
                try:
                    created = services.category_create(name=f"T{n}-{i}", parent_id=rng.choice(ids))
                    ids.append(created.pk)
                except DomainError:
                    pass

        return work

    def mover(n):
        def work():
            rng = random.Random(100 + n)
            for _ in range(8):
                try:
                    position = rng.choice(["first-child", "last-child", "left", "right"])
                    services.category_move(category_id=rng.choice(ids), target_id=rng.choice(ids), position=position)
                except DomainError:
                    pass  # invalid moves and name clashes are expected
                try:
                    services.category_update(category_id=rng.choice(ids), parent_id=rng.choice(ids + [None]))
                except DomainError:
                    pass

        return work

    run_in_threads([inserter(n) for n in range(3)] + [mover(n) for n in range(3)])
    assert Category.all_objects.count() == 9 + 24
    from stock.selectors_integrity import category_tree_drifts

    assert category_tree_drifts() == []  # what `check_integrity` checks
    assert_tree_sound()


def test_two_writers_with_the_same_version_exactly_one_wins():
    category = CategoryFactory(name="Contested")
    clients = [token_client(UserFactory(username=f"writer{i}", is_superuser=True)) for i in range(2)]
    statuses = []

    def writer(i):
        def work():
            response = clients[i].patch(
                f"/api/v1/categories/{category.pk}/", {"description": f"by {i}", "version": 1}, format="json"
            )
            statuses.append((response.status_code, response.json()))

        return work

    run_in_threads([writer(0), writer(1)])
    codes = sorted(status for status, _ in statuses)
    assert codes == [200, 409], statuses
    conflict = next(body for status, body in statuses if status == 409)
    assert conflict["code"] == "version_conflict" and conflict["errors"] == {"current_version": 2}
    assert Category.all_objects.get(pk=category.pk).version == 2


def test_two_writers_on_skus_with_the_same_version_exactly_one_wins():
    from tests.catalog.factories import SKUFactory

    sku = SKUFactory()
    clients = [token_client(UserFactory(username=f"skuwriter{i}", is_superuser=True)) for i in range(2)]
    statuses = []

    def writer(i):
        def work():
            response = clients[i].patch(
                f"/api/v1/skus/{sku.pk}/", {"price": f"{i + 1}.00", "version": 1}, format="json"
            )
            statuses.append(response.status_code)

        return work

    run_in_threads([writer(0), writer(1)])
    assert sorted(statuses) == [200, 409]
