"""Edits of many products or SKUs at once: all or nothing, each row through its one-row service.

A dry run does the same writes and rolls them back, so the preview shows exactly what the
edit will do, row by row (before, after, the refusal). Applying refuses as a whole when any
row is refused, or when a row changed since the preview (the versions the preview read).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from catalog.exceptions import BulkEditRefused, DomainError, RuleBroken, VersionConflict
from catalog.models import SKU, Category, Product
from catalog.rules import price_checked
from catalog.services.categories import category_move
from catalog.services.products import product_update
from catalog.services.skus import sku_update
from inventory_site.refusals import refusal_sentence
from inventory_site.types import Actor

_CENT = Decimal("0.01")


@dataclass
class RowChange:
    """One row of a bulk edit: what it is, its value before and after, the refusal if any."""

    pk: int
    label: str
    before: str
    after: str
    version: int
    error: str = ""


def price_after(price: Decimal, *, amount: Decimal | None = None, percent: Decimal | None = None) -> Decimal:
    """`price` plus `amount`, or plus `percent` per cent of it, rounded half up to the cent."""
    if amount is not None and percent is None:
        changed = price + amount
    elif percent is not None and amount is None:
        changed = price * (1 + percent / 100)
    else:
        raise ValueError("Give one of amount or percent.")
    return changed.quantize(_CENT, rounding=ROUND_HALF_UP)


# One row's write, given the version the preview showed (None when there was no preview).
_Write = Callable[[int | None], object]


def _run(rows: list[tuple[RowChange, _Write]], *, versions: dict[int, int] | None, dry_run: bool) -> list[RowChange]:
    changes = [change for change, _write in rows]
    with transaction.atomic():
        for change, write in rows:
            expected = versions.get(change.pk) if versions is not None else None
            try:
                with transaction.atomic():
                    if versions is not None and expected is None:
                        raise VersionConflict(change.version, "It was not in the preview.")
                    write(expected)
            except VersionConflict as exc:
                change.error = f"Changed by someone else since the preview (now version {exc.current_version})."
            except RuleBroken as exc:  # the value is the one this edit computed: show it as text
                change.error = f"{exc.field.replace('_', ' ').capitalize()} {change.after} {exc.problem}."
            except DomainError as exc:
                change.error = refusal_sentence(exc)
        refused = [c for c in changes if c.error]
        if dry_run or refused:
            transaction.set_rollback(True)
    if refused and not dry_run:
        raise BulkEditRefused(changes)
    return changes


def products_move(
    *,
    product_ids: Iterable[int],
    category_id: int,
    user: Actor = None,
    versions: dict[int, int] | None = None,
    dry_run: bool = False,
) -> list[RowChange]:
    """Move products to the category `category_id` through `product_update`, all or nothing."""
    target = Category.all_objects.filter(pk=category_id).values_list("path", flat=True).first() or "?"
    rows: list[tuple[RowChange, _Write]] = []
    for product in Product.objects.filter(pk__in=list(product_ids)).select_related("category").order_by("pk"):
        change = RowChange(
            pk=product.pk, label=product.name, before=product.category.path, after=target, version=product.version
        )

        def write(expected: int | None, pk: int = product.pk) -> None:
            product_update(product_id=pk, category_id=category_id, user=user, expected_version=expected)

        rows.append((change, write))
    return _run(rows, versions=versions, dry_run=dry_run)


def skus_reprice(
    *,
    sku_ids: Iterable[int],
    amount: Decimal | None = None,
    percent: Decimal | None = None,
    user: Actor = None,
    versions: dict[int, int] | None = None,
    dry_run: bool = False,
) -> list[RowChange]:
    """Change SKU prices by an amount or a percentage through `sku_update`, all or nothing."""
    rows: list[tuple[RowChange, _Write]] = []
    for sku in SKU.objects.filter(pk__in=list(sku_ids)).order_by("pk"):
        new_price = price_after(sku.price, amount=amount, percent=percent)
        change = RowChange(
            pk=sku.pk, label=sku.sku_code, before=f"{sku.price:.2f}", after=f"{new_price:.2f}", version=sku.version
        )

        def write(expected: int | None, pk: int = sku.pk, price: Decimal = new_price) -> None:
            price_checked(price)  # the service's rule, first: its refusal then names the new price as text
            sku_update(sku_id=pk, price=price, user=user, expected_version=expected)

        rows.append((change, write))
    return _run(rows, versions=versions, dry_run=dry_run)


def categories_move(
    *,
    category_ids: Iterable[int],
    target_id: int,
    position: str = "last-child",
    user: Actor = None,
    versions: dict[int, int] | None = None,
    dry_run: bool = False,
) -> list[RowChange]:
    """Move categories, each with its subtree, relative to `target_id` through `category_move`
    (into it as the last child, or before/after it), all or nothing; `after` is the new path."""
    rows: list[tuple[RowChange, _Write]] = []
    for category in Category.objects.filter(pk__in=list(category_ids)).order_by("tree_id", "lft"):
        change = RowChange(
            pk=category.pk, label=category.name, before=category.path, after="", version=category.version
        )

        def write(expected: int | None, pk: int = category.pk, change: RowChange = change) -> None:
            moved = category_move(
                category_id=pk, target_id=target_id, position=position, user=user, expected_version=expected
            )
            change.after = moved.path

        rows.append((change, write))
    return _run(rows, versions=versions, dry_run=dry_run)
