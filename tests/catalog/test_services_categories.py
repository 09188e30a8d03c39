"""Category services against the database: the tree, paths, names, deletes and restores."""

import pytest

from catalog import services
from catalog.exceptions import Duplicate, HasDependents, InvalidInput, InvalidMove, NotFound, ParentDeleted
from catalog.models import Category
from inventory_site.exceptions import PreconditionFailed, VersionConflict
from tests.catalog.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def tree_of(*names):
    """Create a chain root > child > ... and return the nodes."""
    nodes, parent = [], None
    for name in names:
        parent = CategoryFactory(name=name, parent=parent)
        nodes.append(parent)
    return nodes


def assert_tree_sound():
    """The stored tree equals what django-mptt rebuilds from the parent links."""
    before = list(Category.all_objects.order_by("pk").values_list("pk", "tree_id", "lft", "rght", "level"))
    Category.all_objects.rebuild()
    after = list(Category.all_objects.order_by("pk").values_list("pk", "tree_id", "lft", "rght", "level"))
    assert [row[2:] for row in before] == [row[2:] for row in after]


def test_create_sets_path_slug_level_and_version():
    electronics, phones = tree_of("Electronics", "Smart Phones")
    assert phones.path == "Electronics/Smart Phones"
    assert phones.slug == "smart-phones"
    assert phones.level == 1 and phones.parent_id == electronics.pk
    assert phones.version == 1


def test_create_under_missing_or_deleted_parent_is_invalid():
    gone = CategoryFactory()
    services.category_soft_delete(category_id=gone.pk)
    for parent_id in (gone.pk, 999999):
        with pytest.raises(InvalidInput) as exc:
            services.category_create(name="X", parent_id=parent_id)
        assert "parent_id" in exc.value.errors


def test_sibling_names_unique_case_insensitively_among_active():
    root = CategoryFactory(name="Root")
    CategoryFactory(name="Phones", parent=root)
    with pytest.raises(Duplicate):
        services.category_create(name="PHONES", parent_id=root.pk)
    CategoryFactory(name="Phones")  # another parent (none): fine
    with pytest.raises(Duplicate):
        services.category_create(name="phones")


def test_deleted_sibling_name_can_be_reused_and_restore_then_conflicts():
    old = CategoryFactory(name="Shoes")
    services.category_soft_delete(category_id=old.pk)
    CategoryFactory(name="shoes")
    with pytest.raises(Duplicate):
        services.category_restore(category_id=old.pk)
    assert Category.all_objects.get(pk=old.pk).is_deleted


def test_rename_rewrites_descendant_paths_and_slug():
    root, mid, leaf = tree_of("A", "B", "C")
    services.category_update(category_id=mid.pk, name="Bee")
    assert Category.all_objects.get(pk=mid.pk).slug == "bee"
    assert Category.all_objects.get(pk=leaf.pk).path == "A/Bee/C"
    services.category_update(category_id=root.pk, name="Ay")
    assert list(Category.all_objects.order_by("level").values_list("path", flat=True)) == ["Ay", "Ay/Bee", "Ay/Bee/C"]
    assert_tree_sound()


def test_rename_reorders_siblings_by_name():
    root = CategoryFactory(name="Root")
    b = CategoryFactory(name="B", parent=root)
    CategoryFactory(name="C", parent=root)
    services.category_update(category_id=b.pk, name="D")
    assert [c.name for c in Category.objects.get(pk=root.pk).get_children()] == ["C", "D"]
    assert_tree_sound()


def test_change_parent_moves_subtree_and_paths_follow():
    a, b, c = tree_of("A", "B", "C")
    x = CategoryFactory(name="X")
    moved = services.category_update(category_id=b.pk, parent_id=x.pk)
    assert moved.version == 2
    assert Category.all_objects.get(pk=c.pk).path == "X/B/C"
    assert Category.all_objects.get(pk=c.pk).level == 2
    services.category_update(category_id=b.pk, parent_id=None)
    assert Category.all_objects.get(pk=b.pk).path == "B"
    assert Category.all_objects.get(pk=c.pk).level == 1
    assert_tree_sound()


def test_move_under_itself_or_descendant_is_invalid():
    a, b, c = tree_of("A", "B", "C")
    for target in (a, c):
        with pytest.raises(InvalidMove):
            services.category_update(category_id=a.pk, parent_id=target.pk)
        with pytest.raises(InvalidMove):
            services.category_move(category_id=a.pk, target_id=target.pk, position="first-child")
    assert Category.all_objects.get(pk=a.pk).version == 1


def test_move_positions_order_siblings():
    root = CategoryFactory(name="Root")
    a, b, c = (CategoryFactory(name=n, parent=root) for n in "ABC")
    services.category_move(category_id=c.pk, target_id=a.pk, position="left")
    assert [n.name for n in Category.objects.get(pk=root.pk).get_children()] == ["C", "A", "B"]
    services.category_move(category_id=c.pk, target_id=root.pk, position="last-child")
    assert [n.name for n in Category.objects.get(pk=root.pk).get_children()] == ["A", "B", "C"]
    other = CategoryFactory(name="Other")
    moved = services.category_move(category_id=b.pk, target_id=other.pk, position="first-child")
    assert moved.path == "Other/B" and moved.parent_id == other.pk and moved.version == 2
    services.category_move(category_id=a.pk, target_id=other.pk, position="right")
    assert Category.all_objects.get(pk=a.pk).parent_id is None
    assert Category.all_objects.get(pk=a.pk).path == "A"
    assert_tree_sound()


def test_move_rejects_name_taken_at_destination_and_unknown_target_and_position():
    a = CategoryFactory(name="A")
    CategoryFactory(name="Same", parent=a)
    same = CategoryFactory(name="same")
    with pytest.raises(Duplicate):
        services.category_move(category_id=same.pk, target_id=a.pk, position="last-child")
    with pytest.raises(InvalidInput):
        services.category_move(category_id=same.pk, target_id=424242)
    with pytest.raises(InvalidInput):
        services.category_move(category_id=same.pk, target_id=a.pk, position="inside")


def test_version_checks():
    c = CategoryFactory()
    with pytest.raises(VersionConflict) as exc:
        services.category_update(category_id=c.pk, name="New", expected_version=7)
    assert exc.value.errors == {"current_version": 1}
    with pytest.raises(PreconditionFailed):
        services.category_update(category_id=c.pk, name="New", if_match=2)
    updated = services.category_update(category_id=c.pk, name="New", expected_version=1, if_match=1)
    assert updated.version == 2 and Category.all_objects.get(pk=c.pk).name == "New"


def test_soft_delete_refused_with_active_children_or_products():
    root, child = tree_of("Root", "Child")
    with pytest.raises(HasDependents) as exc:
        services.category_soft_delete(category_id=root.pk)
    assert exc.value.errors == {"children": 1, "products": 0}
    ProductFactory(category=child)
    with pytest.raises(HasDependents):
        services.category_soft_delete(category_id=child.pk)
    assert not Category.all_objects.get(pk=child.pk).is_deleted


def test_soft_delete_and_restore_bump_version():
    c = CategoryFactory()
    deleted = services.category_soft_delete(category_id=c.pk)
    assert deleted.is_deleted and deleted.deleted_at and deleted.version == 2
    with pytest.raises(NotFound):
        services.category_soft_delete(category_id=c.pk)
    restored = services.category_restore(category_id=c.pk)
    assert not restored.is_deleted and restored.deleted_at is None and restored.version == 3
    with pytest.raises(NotFound):
        services.category_restore(category_id=c.pk)


def test_restore_with_deleted_parent_refused():
    root, child = tree_of("Root", "Child")
    services.category_soft_delete(category_id=child.pk)
    services.category_soft_delete(category_id=root.pk)
    with pytest.raises(ParentDeleted):
        services.category_restore(category_id=child.pk)
    services.category_restore(category_id=root.pk)
    services.category_restore(category_id=child.pk)


def test_hard_delete_refused_while_anything_refers_to_it():
    root, child = tree_of("Root", "Child")
    services.category_soft_delete(category_id=child.pk)
    with pytest.raises(HasDependents):
        services.category_hard_delete(category_id=root.pk)
    services.category_hard_delete(category_id=child.pk)
    services.category_hard_delete(category_id=root.pk)
    assert not Category.all_objects.exists()


def test_hard_delete_closes_the_gap():
    root = CategoryFactory(name="Root")
    a = CategoryFactory(name="A", parent=root)
    CategoryFactory(name="B", parent=root)
    services.category_hard_delete(category_id=a.pk)
    assert_tree_sound()
    assert Category.all_objects.get(pk=root.pk).rght == 4


def test_history_records_author(superuser):
    c = services.category_create(name="Tracked", user=superuser)
    assert c.history.first().history_user == superuser


def test_lost_race_on_sibling_name_constraint_is_duplicate(monkeypatch):
    from catalog.services import categories

    root = CategoryFactory(name="Root")
    CategoryFactory(name="Taken", parent=root)
    monkeypatch.setattr(categories, "_check_sibling_name", lambda *a, **kw: None)
    with pytest.raises(Duplicate):
        services.category_create(name="TAKEN", parent_id=root.pk)
    assert Category.all_objects.count() == 2
    assert_tree_sound()
