"""Writes to products; a cascading delete and a restore carry the product's SKUs along."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.text import slugify

from catalog.events import emit_product, emit_skus
from catalog.exceptions import Duplicate, HasDependents, InvalidInput, ParentDeleted
from catalog.models import SKU, Category, Product
from catalog.rules import PRODUCT_DESCRIPTION_MAX_LENGTH, attributes_checked, description_checked, product_name_checked
from catalog.services.base import UNSET, checked_fields, locked_for_write, stamp_history
from catalog.signals import skus_hiding
from inventory_site.types import Actor

_UNSET = UNSET
UNIQUE_NAME_CONSTRAINT = "product_unique_active_name_in_category"


def _product_description_checked(value: Any) -> str:
    return description_checked(value, PRODUCT_DESCRIPTION_MAX_LENGTH)


def _name_taken(name: str, category_id: int) -> Duplicate:
    message = f"A product named {name!r} already exists in this category (names are unique in any case)."
    return Duplicate(message, errors={"name": [message]})


def _check_name_free(name: str, category_id: int, *, exclude_pk: int | None = None) -> None:
    """What identifies a product: its name, in any case, among the active products of its category."""
    taken = Product.objects.filter(category_id=category_id, name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise _name_taken(name, category_id)


def _save_unique(product: Product) -> None:
    """Save, turning a lost race on the unique name constraint into `Duplicate`."""
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError as exc:
        if UNIQUE_NAME_CONSTRAINT in str(exc):
            raise _name_taken(product.name, product.category_id) from exc
        raise


def _category_for_product(category_id: int) -> Category:
    """The active category, locked against a concurrent delete until the transaction ends."""
    category = Category.objects.select_for_update(no_key=True).filter(pk=category_id).first()
    if category is None:
        raise InvalidInput(
            f"Category {category_id} does not exist or is deleted.",
            errors={"category_id": [f"Category {category_id} does not exist or is deleted."]},
        )
    return category


@transaction.atomic
def product_create(
    *, name: str, category_id: int, description: str = "", attributes: dict | None = None, user: Actor = None
) -> Product:
    """Create a product in an active category; its name must be free there (any case)."""
    name, description, attributes = checked_fields(
        (product_name_checked, name),
        (_product_description_checked, description),
        (attributes_checked, attributes),
    )
    category = _category_for_product(category_id)
    _check_name_free(name, category.pk)
    product = Product(
        name=name,
        slug=slugify(name, allow_unicode=True)[:170],
        category=category,
        description=description,
        attributes=attributes,
    )
    stamp_history(product, user)
    _save_unique(product)
    emit_product(product, "created")
    return product


@transaction.atomic
def product_update(
    *,
    product_id: int,
    name: str = _UNSET,
    description: str = _UNSET,
    category_id: int = _UNSET,
    attributes: dict = _UNSET,
    user: Actor = None,
    expected_version: int | None = None,
    if_match: int | None = None,
) -> Product:
    """Change a product; a new `category_id` must be an active category, and the name must be free there."""
    name, description, attributes = checked_fields(
        (product_name_checked, name),
        (_product_description_checked, description),
        (attributes_checked, attributes),
    )
    product = locked_for_write(Product.objects.all(), product_id, expected_version=expected_version, if_match=if_match)
    if category_id is not _UNSET and category_id != product.category_id:
        product.category = _category_for_product(category_id)
    if name is not _UNSET:
        product.name = name
        product.slug = slugify(name, allow_unicode=True)[:170]
    if description is not _UNSET:
        product.description = description
    if attributes is not _UNSET:
        product.attributes = attributes
    _check_name_free(product.name, product.category_id, exclude_pk=product.pk)
    stamp_history(product, user)
    _save_unique(product)
    emit_product(product, "updated")
    return product


@transaction.atomic
def product_soft_delete(
    *,
    product_id: int,
    cascade: bool = False,
    user: Actor = None,
    expected_version: int | None = None,
    if_match: int | None = None,
) -> Product:
    """Hide a product. With active SKUs it is refused unless `cascade`, which hides them too
    (marked `deleted_with_product`), and is refused if a receiver of `skus_hiding` refuses."""
    product = locked_for_write(Product.objects.all(), product_id, expected_version=expected_version, if_match=if_match)
    skus = list(SKU.objects.select_for_update().filter(product_id=product.pk).order_by("pk"))
    if skus and not cascade:
        raise HasDependents(
            "The product has active SKUs; delete them first or use cascade=true.", errors={"skus": len(skus)}
        )
    skus_hiding.send(sender=SKU, sku_ids=[sku.pk for sku in skus])
    for sku in skus:
        sku.mark_deleted()
        sku.deleted_with_product = True
        stamp_history(sku, user)
        sku.save()
    product.mark_deleted()
    stamp_history(product, user)
    product.save()
    emit_skus(skus, "deleted")
    emit_product(product, "deleted")
    return product


@transaction.atomic
def product_restore(
    *, product_id: int, user: Actor = None, expected_version: int | None = None, if_match: int | None = None
) -> Product:
    """Bring back a product and the SKUs that were deleted together with it."""
    product = locked_for_write(
        Product.all_objects.filter(is_deleted=True), product_id, expected_version=expected_version, if_match=if_match
    )
    if not Category.objects.filter(pk=product.category_id).exists():
        raise ParentDeleted(
            "Its category is deleted; restore the category first.", errors={"category_id": product.category_id}
        )
    _check_name_free(product.name, product.category_id, exclude_pk=product.pk)
    product.mark_restored()
    stamp_history(product, user)
    _save_unique(product)
    restored = list(
        SKU.all_objects.select_for_update()
        .filter(product_id=product.pk, is_deleted=True, deleted_with_product=True)
        .order_by("pk")
    )
    for sku in restored:
        sku.mark_restored()
        sku.deleted_with_product = False
        stamp_history(sku, user)
        sku.save()
    emit_product(product, "restored")
    emit_skus(restored, "restored")
    return product


@transaction.atomic
def product_hard_delete(*, product_id: int, user: Actor = None, if_match: int | None = None) -> None:
    """Remove a product for good. Refused while any SKU (even a deleted one) belongs to it."""
    product = locked_for_write(Product.all_objects.all(), product_id, expected_version=None, if_match=if_match)
    skus = SKU.all_objects.filter(product_id=product.pk).count()
    if skus:
        raise HasDependents("It still has SKUs (deleted ones included); remove them first.", errors={"skus": skus})
    stamp_history(product, user)
    emit_product(product, "deleted")
    try:
        product.delete()
    except ProtectedError as exc:
        raise HasDependents("Other records still refer to this product.") from exc
