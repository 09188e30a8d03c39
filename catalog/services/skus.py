"""Writes to SKUs. Codes are unique in any case, and stay taken while a SKU is soft-deleted."""

from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from catalog.events import emit_sku
from catalog.exceptions import Duplicate, HasDependents, InvalidInput, ParentDeleted
from catalog.models import SKU, Product
from catalog.rules import attributes_checked, backorder_policy_checked, price_checked, sku_code_checked
from catalog.services.base import UNSET, checked_fields, locked_for_write, stamp_history
from catalog.signals import skus_hiding
from inventory_site.types import Actor

_UNSET = UNSET


def _product_for_sku(product_id: int) -> Product:
    """The active product, locked against a concurrent delete until the transaction ends."""
    product = Product.objects.select_for_update(no_key=True).filter(pk=product_id).first()
    if product is None:
        raise InvalidInput(
            f"Product {product_id} does not exist or is deleted.",
            errors={"product_id": [f"Product {product_id} does not exist or is deleted."]},
        )
    return product


def _check_code_free(sku_code: str, *, exclude_pk: int | None = None) -> None:
    taken = SKU.all_objects.with_code(sku_code)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise _duplicate(sku_code)


def _duplicate(sku_code: str) -> Duplicate:
    return Duplicate(
        f"SKU code {sku_code!r} is taken (codes of deleted SKUs stay reserved).",
        errors={"sku_code": [f"SKU code {sku_code!r} is already taken, possibly by a deleted SKU."]},
    )


def _save_unique(sku: SKU) -> None:
    """Save, turning a lost race on the case-insensitive code constraint into `Duplicate`."""
    try:
        with transaction.atomic():
            sku.save()
    except IntegrityError as exc:
        if "sku_code_unique_ci" in str(exc):
            raise _duplicate(sku.sku_code) from exc
        raise


@transaction.atomic
def sku_create(
    *,
    sku_code: str,
    product_id: int,
    price: Decimal | str,  # its text too: `price_checked` reads it
    attributes: dict | None = None,
    backorder_policy: str | None = None,
    user: Actor = None,
) -> SKU:
    """Create a SKU of an active product."""
    sku_code, price, attributes, backorder_policy = checked_fields(
        (sku_code_checked, sku_code),
        (price_checked, price),
        (attributes_checked, attributes),
        (backorder_policy_checked, backorder_policy),
    )
    product = _product_for_sku(product_id)
    _check_code_free(sku_code)
    sku = SKU(sku_code=sku_code, product=product, price=price, attributes=attributes, backorder_policy=backorder_policy)
    stamp_history(sku, user)
    _save_unique(sku)
    emit_sku(sku, "created")
    return sku


@transaction.atomic
def sku_update(
    *,
    sku_id: int,
    sku_code: str = _UNSET,
    product_id: int = _UNSET,
    price: Decimal = _UNSET,
    attributes: dict = _UNSET,
    backorder_policy: str = _UNSET,
    user: Actor = None,
    expected_version: int | None = None,
    if_match: int | None = None,
) -> SKU:
    """Change a SKU's code, product, price, attributes or backorder policy (stock changes go
    through the stock services)."""
    sku_code, price, attributes, backorder_policy = checked_fields(
        (sku_code_checked, sku_code),
        (price_checked, price),
        (attributes_checked, attributes),
        (backorder_policy_checked, backorder_policy),
    )
    sku = locked_for_write(SKU.objects.all(), sku_id, expected_version=expected_version, if_match=if_match)
    if product_id is not _UNSET and product_id != sku.product_id:
        sku.product = _product_for_sku(product_id)
    if sku_code is not _UNSET and sku_code != sku.sku_code:
        _check_code_free(sku_code, exclude_pk=sku.pk)
        sku.sku_code = sku_code
    if price is not _UNSET:
        sku.price = price
    if attributes is not _UNSET:
        sku.attributes = attributes
    if backorder_policy is not _UNSET:
        sku.backorder_policy = backorder_policy
    stamp_history(sku, user)
    _save_unique(sku)
    emit_sku(sku, "updated")
    return sku


@transaction.atomic
def sku_soft_delete(
    *, sku_id: int, user: Actor = None, expected_version: int | None = None, if_match: int | None = None
) -> SKU:
    """Hide a SKU (its code stays taken), unless a receiver of `skus_hiding` refuses."""
    sku = locked_for_write(SKU.objects.all(), sku_id, expected_version=expected_version, if_match=if_match)
    skus_hiding.send(sender=SKU, sku_ids=[sku.pk])
    sku.mark_deleted()
    stamp_history(sku, user)
    sku.save()
    emit_sku(sku, "deleted")
    return sku


@transaction.atomic
def sku_restore(
    *, sku_id: int, user: Actor = None, expected_version: int | None = None, if_match: int | None = None
) -> SKU:
    """Bring back a soft-deleted SKU; its product must be active."""
    sku = locked_for_write(
        SKU.all_objects.filter(is_deleted=True), sku_id, expected_version=expected_version, if_match=if_match
    )
    if not Product.objects.filter(pk=sku.product_id).exists():
        raise ParentDeleted("Its product is deleted; restore the product first.", errors={"product_id": sku.product_id})
    sku.mark_restored()
    sku.deleted_with_product = False
    stamp_history(sku, user)
    sku.save()
    emit_sku(sku, "restored")
    return sku


@transaction.atomic
def sku_hard_delete(*, sku_id: int, user: Actor = None, if_match: int | None = None) -> None:
    """Remove a SKU for good. Refused while stock levels, movements or reservations refer to it."""
    sku = locked_for_write(SKU.all_objects.all(), sku_id, expected_version=None, if_match=if_match)
    stamp_history(sku, user)
    emit_sku(sku, "deleted")
    try:
        with transaction.atomic():
            sku.delete()
    except ProtectedError as exc:
        raise HasDependents(
            "The SKU has stock history (levels, movements or reservations) that the ledger needs."
        ) from exc


def sku_count_repair() -> None:
    """Set the kept number of active SKUs to a count of them (what `check_integrity --fix` does)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_sku_active_count SET skus = CASE WHEN slot = 0"
            " THEN (SELECT count(*) FROM catalog_sku WHERE NOT is_deleted) ELSE 0 END"
        )
