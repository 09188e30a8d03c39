"""Warehouse writes: create, update (including switching the default), soft/hard delete, restore."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from inventory_site.exceptions import DomainError
from inventory_site.types import Actor
from inventory_site.validators import validate_name
from stock.exceptions import Duplicate, HasDependents, InvalidInput
from stock.models import (
    WAREHOUSE_CODE_VALIDATOR,
    InboundShipment,
    ReservationLine,
    StockLevel,
    StockMovement,
    Warehouse,
)
from stock.selectors import levels_holding_stock
from stock.services.ledger import lock_levels_of, quantity_check

# A CharField's max_length is set (the stubs allow None, and a reverse relation).
NAME_MAX_LENGTH: int = Warehouse._meta.get_field("name").max_length  # type: ignore[assignment]


def _code_taken(code: str, *, exclude_pk: int | None = None) -> bool:
    taken = Warehouse.all_objects.filter(code=code.upper())
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    return taken.exists()


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    """`code` upper-cased and checked (1-20 of A-Z 0-9 _ -), `name` checked (1-100 characters, not
    blank, no control characters); `InvalidInput` naming every bad field."""
    errors: dict[str, Any] = {}
    if "code" in fields:
        code = fields["code"].upper() if isinstance(fields["code"], str) else fields["code"]
        try:
            if not isinstance(code, str):
                raise ValidationError("Must be text.")
            WAREHOUSE_CODE_VALIDATOR(code)
        except ValidationError as exc:
            errors["code"] = exc.messages
        fields = {**fields, "code": code}
    if "priority" in fields:
        try:
            quantity_check(fields["priority"], field="priority")
        except InvalidInput as exc:
            errors.update(exc.errors or {})
    if "name" in fields:
        try:
            validate_name(fields["name"])
            if len(fields["name"]) > NAME_MAX_LENGTH:
                raise ValidationError(f"Must be at most {NAME_MAX_LENGTH} characters.")
        except ValidationError as exc:
            errors["name"] = exc.messages
    if errors:
        raise InvalidInput(errors=errors)
    return fields


def _duplicate(code: str) -> Duplicate:
    return Duplicate(
        f"Warehouse code {code!r} is already taken.", errors={"code": ["A warehouse with this code already exists."]}
    )


def _unset_default(*, keep_pk: int | None, user: Actor = None) -> None:
    defaults = Warehouse.all_objects.select_for_update().filter(is_default=True)
    if keep_pk is not None:
        defaults = defaults.exclude(pk=keep_pk)
    for old in defaults.order_by("pk"):
        old.is_default = False
        old._history_user = user
        old.save(update_fields=["is_default"])


@transaction.atomic
def warehouse_create(
    *,
    code: str,
    name: str,
    is_active: bool = True,
    is_default: bool = False,
    priority: int = 100,
    user: Actor = None,
) -> Warehouse:
    """A new warehouse; `code` is stored upper case and must be unused (deleted ones included).
    `priority`: where reservations that name no warehouse try it (lower first)."""
    checked = _checked({"code": code, "name": name, "priority": priority})
    code, name = checked["code"], checked["name"]
    if _code_taken(code):
        raise _duplicate(code)
    if is_default:
        _unset_default(keep_pk=None, user=user)
    warehouse = Warehouse(code=code, name=name, is_active=is_active, is_default=is_default, priority=priority)
    warehouse._history_user = user
    try:
        with transaction.atomic():
            warehouse.save()
    except IntegrityError as exc:
        raise _duplicate(code) from exc
    return warehouse


@transaction.atomic
def warehouse_update(
    *,
    warehouse: Warehouse,
    expected_version: int | None = None,
    if_match: int | None = None,
    user: Actor = None,
    **changes: Any,
) -> Warehouse:
    """Change `code`, `name`, `is_active`, `is_default` or `priority`; making it the default unsets the old one.

    The default cannot be unset directly: make another warehouse the default instead.
    """
    warehouse = Warehouse.lock_for_write(
        warehouse.pk, expected_version=expected_version, if_match=if_match, queryset=Warehouse.all_objects.all()
    )
    allowed = {"code", "name", "is_active", "is_default", "priority"}
    changes = _checked({k: v for k, v in changes.items() if k in allowed})
    if "code" in changes:
        if changes["code"] != warehouse.code and _code_taken(changes["code"], exclude_pk=warehouse.pk):
            raise _duplicate(changes["code"])
    if changes.get("is_default") is False and warehouse.is_default:
        raise InvalidInput(
            "The default warehouse cannot be unset; make another warehouse the default.",
            errors={"is_default": ["Make another warehouse the default instead."]},
        )
    if changes.get("is_default") and not warehouse.is_default:
        if warehouse.is_deleted:
            raise InvalidInput(errors={"is_default": ["A deleted warehouse cannot be the default."]})
        _unset_default(keep_pk=warehouse.pk, user=user)
    for field, value in changes.items():
        setattr(warehouse, field, value)
    warehouse._history_user = user
    try:
        with transaction.atomic():
            warehouse.save()
    except IntegrityError as exc:
        raise _duplicate(warehouse.code) from exc
    return warehouse


def _holding_stock(warehouse: Warehouse) -> dict[str, int] | None:
    held = levels_holding_stock(StockLevel.objects.filter(warehouse=warehouse)).count()
    return {"stock_levels": held} if held else None


def warehouse_hard_delete_refusal(warehouse: Warehouse) -> DomainError | None:
    """Why this warehouse may not be deleted for good, or None: the default one may not, nor one
    the ledger still needs (levels holding units, movements, reservation lines, inbound shipments). Empty levels
    go with it. The one rule of `warehouse_hard_delete` and `purge_deleted`."""
    if warehouse.is_default:
        return InvalidInput(errors={"is_default": ["The default warehouse cannot be deleted."]})
    refs = {
        "stock_levels": levels_holding_stock(StockLevel.objects.filter(warehouse=warehouse)).count(),
        "movements": StockMovement.objects.filter(warehouse=warehouse).count(),
        "reservation_lines": ReservationLine.objects.filter(warehouse=warehouse).count(),
        "inbound_shipments": InboundShipment.objects.filter(warehouse=warehouse).count(),
    }
    if any(refs.values()):
        return HasDependents("The warehouse has stock history.", errors=refs)
    return None


def warehouse_delete_for_good(warehouse: Warehouse, *, user: Actor = None) -> int:
    """Delete a locked warehouse that `warehouse_hard_delete_refusal` allows, with its empty
    levels; returns how many levels went."""
    lock_levels_of(StockLevel.objects.filter(warehouse=warehouse))
    levels, _ = StockLevel.objects.filter(warehouse=warehouse).delete()
    warehouse._history_user = user
    warehouse.delete()
    return levels


@transaction.atomic
def warehouse_soft_delete(
    *, warehouse: Warehouse, expected_version: int | None = None, if_match: int | None = None, user: Actor = None
) -> Warehouse:
    """Hide a warehouse. Refused while it holds stock or is the default."""
    warehouse = Warehouse.lock_for_write(
        warehouse.pk, expected_version=expected_version, if_match=if_match, queryset=Warehouse.all_objects.all()
    )
    if warehouse.is_deleted:
        return warehouse
    if warehouse.is_default:
        raise InvalidInput(
            "The default warehouse cannot be deleted; make another warehouse the default first.",
            errors={"is_default": ["The default warehouse cannot be deleted."]},
        )
    if (held := _holding_stock(warehouse)) is not None:
        raise HasDependents("The warehouse still holds stock.", errors=held)
    warehouse.mark_deleted()
    warehouse._history_user = user
    warehouse.save()
    return warehouse


@transaction.atomic
def warehouse_restore(
    *, warehouse: Warehouse, expected_version: int | None = None, if_match: int | None = None, user: Actor = None
) -> Warehouse:
    """Bring back a soft-deleted warehouse."""
    warehouse = Warehouse.lock_for_write(
        warehouse.pk, expected_version=expected_version, if_match=if_match, queryset=Warehouse.all_objects.all()
    )
    if not warehouse.is_deleted:
        return warehouse
    warehouse.mark_restored()
    warehouse._history_user = user
    warehouse.save()
    return warehouse


@transaction.atomic
def warehouse_hard_delete(*, warehouse: Warehouse, user: Actor = None) -> None:
    """Remove a warehouse for good (see `warehouse_hard_delete_refusal`)."""
    warehouse = Warehouse.lock_for_write(warehouse.pk, queryset=Warehouse.all_objects.all())
    if (refusal := warehouse_hard_delete_refusal(warehouse)) is not None:
        raise refusal
    warehouse_delete_for_good(warehouse, user=user)
