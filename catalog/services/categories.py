"""Writes to the category tree. Every one of them holds the tree lock (`category_tree_lock`)."""

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils.text import slugify

from catalog.events import emit_category
from catalog.exceptions import Duplicate, HasDependents, InvalidInput, InvalidMove, ParentDeleted
from catalog.models import Category, Product
from catalog.rules import (
    CATEGORY_DESCRIPTION_MAX_LENGTH,
    attributes_checked,
    category_name_checked,
    description_checked,
)
from catalog.services.base import UNSET, checked_fields, locked_for_write, stamp_history
from inventory_site.types import Actor
from inventory_site.validators import PATH_SEPARATOR

# Any constant unique to this lock: the tree is one resource for every category write.
CATEGORY_TREE_LOCK_ID = 0x43415447  # "CATG"
POSITIONS = ("first-child", "last-child", "left", "right")
_UNSET = UNSET


def _category_description_checked(value: Any) -> str:
    return description_checked(value, CATEGORY_DESCRIPTION_MAX_LENGTH)


def _checked(name: Any, description: Any, attributes: Any) -> list[Any]:
    return checked_fields(
        (category_name_checked, name),
        (_category_description_checked, description),
        (attributes_checked, attributes),
    )


def category_tree_lock() -> None:
    """Serialize writes to the category tree until the current transaction ends.

    django-mptt rewrites `lft`/`rght`/`tree_id` of many rows from values it read
    before, without locks; two concurrent tree writes would corrupt the tree. A
    transaction-level advisory lock makes them take turns. Call it first thing inside
    `transaction.atomic()`, before reading any node.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CATEGORY_TREE_LOCK_ID])


def _active_parent(parent_id: int | None) -> Category | None:
    if parent_id is None:
        return None
    parent = Category.objects.filter(pk=parent_id).first()
    if parent is None:
        raise InvalidInput(
            f"Category {parent_id} does not exist or is deleted.",
            errors={"parent_id": [f"Category {parent_id} does not exist or is deleted."]},
        )
    return parent


def _path_for(name: str, parent: Category | None) -> str:
    return f"{parent.path}{PATH_SEPARATOR}{name}" if parent is not None else name


def _name_taken(name: str, parent_id: int | None) -> Duplicate:
    where = Category.all_objects.filter(pk=parent_id).values_list("path", flat=True).first() if parent_id else None
    message = f"{where or 'The top level'} already has a category named {name!r} (names are unique in any case)."
    return Duplicate(message, errors={"name": [message]})


def _check_sibling_name(name: str, parent_id: int | None, *, exclude_pk: int | None = None) -> None:
    """Sibling names are unique, in any case, among the non-deleted categories."""
    siblings = Category.objects.filter(parent_id=parent_id, name__iexact=name)
    if exclude_pk is not None:
        siblings = siblings.exclude(pk=exclude_pk)
    if siblings.exists():
        raise _name_taken(name, parent_id)


def _saved(write: Callable[[], object], category: Category) -> None:
    """Run a tree write in a savepoint; a lost race on the sibling-name constraint is `Duplicate`."""
    try:
        with transaction.atomic():
            write()
    except IntegrityError as exc:
        if "category_unique_active_sibling_name" in str(exc):
            raise _name_taken(category.name, category.parent_id) from exc
        raise


def _check_not_under_itself(category: Category, target: Category | None, field: str) -> None:
    """A category cannot move under (or next to) itself or one of its descendants."""
    if target is not None and target.tree_id == category.tree_id and category.lft <= target.lft <= category.rght:
        raise InvalidMove(errors={field: [InvalidMove.default_message]})


def _rewrite_descendant_paths(category: Category, old_path: str) -> None:
    """Point every descendant's `path` (deleted ones too) at the category's new path."""
    if category.path == old_path:
        return
    tree = Category.all_objects.filter(pk=category.pk).values("tree_id", "lft", "rght").get()
    old_prefix = old_path + PATH_SEPARATOR
    Category.all_objects.filter(tree_id=tree["tree_id"], lft__gt=tree["lft"], rght__lt=tree["rght"]).update(
        path=Concat(Value(category.path + PATH_SEPARATOR), Substr("path", len(old_prefix) + 1))
    )


@transaction.atomic
def category_create(
    *,
    name: str,
    parent_id: int | None = None,
    description: str = "",
    attributes: dict | None = None,
    user: Actor = None,
) -> Category:
    """Create a category under `parent_id` (a root when None), in name order among its siblings."""
    name, description, attributes = _checked(name, description, attributes)
    category_tree_lock()
    parent = _active_parent(parent_id)
    _check_sibling_name(name, parent_id)
    category = Category(
        name=name,
        slug=slugify(name, allow_unicode=True)[:120],
        parent=parent,
        description=description,
        attributes=attributes,
        path=_path_for(name, parent),
    )
    stamp_history(category, user)
    _saved(category.save, category)
    emit_category(category, "created")
    return category


@transaction.atomic
def category_update(
    *,
    category_id: int,
    name: str = _UNSET,
    description: str = _UNSET,
    parent_id: int | None = _UNSET,
    attributes: dict = _UNSET,
    user: Actor = None,
    expected_version: int | None = None,
    if_match: int | None = None,
) -> Category:
    """Change a category; a new `parent_id` moves its subtree, a new name re-sorts it among
    its siblings. The `path` of every descendant follows. Refused: a name taken among the new
    siblings (any case), a move under itself or one of its descendants."""
    name, description, attributes = _checked(name, description, attributes)
    category_tree_lock()
    category = locked_for_write(
        Category.objects.all(), category_id, expected_version=expected_version, if_match=if_match
    )
    old_path, old_parent_id = category.path, category.parent_id
    new_parent_id = category.parent_id if parent_id is _UNSET else parent_id
    if parent_id is not _UNSET and parent_id != category.parent_id:
        parent = _active_parent(parent_id)
        _check_not_under_itself(category, parent, "parent_id")
        category.parent = parent
    else:
        parent = category.parent
    if name is not _UNSET:
        category.name = name
        category.slug = slugify(name, allow_unicode=True)[:120]
    if description is not _UNSET:
        category.description = description
    if attributes is not _UNSET:
        category.attributes = attributes
    _check_sibling_name(category.name, new_parent_id, exclude_pk=category.pk)
    category.path = _path_for(category.name, parent)
    stamp_history(category, user)
    _saved(category.save, category)
    _rewrite_descendant_paths(category, old_path)
    emit_category(category, "updated" if category.parent_id == old_parent_id else "moved")
    return category


@transaction.atomic
def category_move(
    *,
    category_id: int,
    target_id: int,
    position: str = "last-child",
    user: Actor = None,
    expected_version: int | None = None,
    if_match: int | None = None,
) -> Category:
    """Move a category (with its subtree) relative to `target_id`: as its first or last
    child, or as its left or right sibling (ordering among siblings)."""
    if position not in POSITIONS:
        raise InvalidInput(errors={"position": [f"Use one of {', '.join(POSITIONS)}."]})
    category_tree_lock()
    category = locked_for_write(
        Category.objects.all(), category_id, expected_version=expected_version, if_match=if_match
    )
    target = Category.objects.filter(pk=target_id).first()
    if target is None:
        raise InvalidInput(errors={"target_id": [f"Category {target_id} does not exist or is deleted."]})
    _check_not_under_itself(category, target, "target_id")
    new_parent = target if position in ("first-child", "last-child") else target.parent
    _check_sibling_name(category.name, new_parent.pk if new_parent else None, exclude_pk=category.pk)
    old_path = category.path
    category.path = _path_for(category.name, new_parent)
    stamp_history(category, user)
    _saved(lambda: category.move_to(target, position), category)  # saves the node, bumping its version
    _rewrite_descendant_paths(category, old_path)
    category.refresh_from_db()
    emit_category(category, "moved")
    return category


@transaction.atomic
def category_soft_delete(
    *, category_id: int, user: Actor = None, expected_version: int | None = None, if_match: int | None = None
) -> Category:
    """Hide a category. Refused while it has non-deleted children or products."""
    category_tree_lock()
    category = locked_for_write(
        Category.objects.all(), category_id, expected_version=expected_version, if_match=if_match
    )
    children = Category.objects.filter(parent_id=category.pk).count()
    products = Product.objects.filter(category_id=category.pk).count()
    if children or products:
        raise HasDependents(
            "Delete or move its subcategories and products first.",
            errors={"children": children, "products": products},
        )
    category.mark_deleted()
    stamp_history(category, user)
    category.save()
    emit_category(category, "deleted")
    return category


@transaction.atomic
def category_restore(
    *, category_id: int, user: Actor = None, expected_version: int | None = None, if_match: int | None = None
) -> Category:
    """Bring back a soft-deleted category; its parent must be active and its name free."""
    category_tree_lock()
    category = locked_for_write(
        Category.all_objects.filter(is_deleted=True), category_id, expected_version=expected_version, if_match=if_match
    )
    if category.parent_id is not None and category.parent.is_deleted:
        raise ParentDeleted(errors={"parent_id": category.parent_id})
    _check_sibling_name(category.name, category.parent_id, exclude_pk=category.pk)
    category.mark_restored()
    stamp_history(category, user)
    _saved(category.save, category)
    emit_category(category, "restored")
    return category


@transaction.atomic
def category_hard_delete(*, category_id: int, user: Actor = None, if_match: int | None = None) -> None:
    """Remove a category for good. Refused while any subcategory or product (even a deleted one) refers to it."""
    category_tree_lock()
    category = locked_for_write(Category.all_objects.all(), category_id, expected_version=None, if_match=if_match)
    children = Category.all_objects.filter(parent_id=category.pk).count()
    products = Product.all_objects.filter(category_id=category.pk).count()
    if children or products:
        raise HasDependents(
            "It still has subcategories or products (deleted ones included); remove them first.",
            errors={"children": children, "products": products},
        )
    stamp_history(category, user)
    emit_category(category, "deleted")
    category.delete()
