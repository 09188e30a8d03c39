"""Events of the catalog: `catalog.<sku|product|category>.<action>`, with the object as the API shows it.

Computed read-outs that need other queries (`product_count`, `sku_count`, and the SKU's
stock totals, which `stock.level.changed` carries) are not in the payload.
"""

from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.db import models

from catalog.models import SKU, Category, Product
from events.services import EventDraft, events_emit_bulk, events_emit_many

TIMESTAMPS = ("created_at", "updated_at", "version", "is_deleted", "deleted_at")
ACTIONS = ("created", "updated", "deleted", "restored")
EVENT_TYPES = (
    *(f"catalog.{kind}.{action}" for kind in ("category", "product", "sku") for action in ACTIONS),
    "catalog.category.moved",
)


def category_data(category: Category) -> dict:
    return {
        "id": category.pk,
        "name": category.name,
        "slug": category.slug,
        "description": category.description,
        "parent_id": category.parent_id,
        "path": category.path,
        "level": category.level,
        "attributes": category.attributes,
        **{f: getattr(category, f) for f in TIMESTAMPS},
    }


def product_data(product: Product) -> dict:
    return {
        "id": product.pk,
        "name": product.name,
        "slug": product.slug,
        "description": product.description,
        "category_id": product.category_id,
        "attributes": product.attributes,
        **{f: getattr(product, f) for f in TIMESTAMPS},
    }


def sku_data(sku: SKU) -> dict:
    return {
        "id": sku.pk,
        "sku_code": sku.sku_code,
        "product_id": sku.product_id,
        "price": f"{Decimal(sku.price):.2f}",
        "attributes": sku.attributes,
        **{f: getattr(sku, f) for f in TIMESTAMPS},
    }


def sku_draft(sku: SKU, action: str) -> EventDraft:
    return EventDraft(f"catalog.sku.{action}", f"sku:{sku.pk}", sku_data(sku), sku.sku_code)


def emit_sku(sku: SKU, action: str) -> None:
    """`catalog.sku.created|updated|deleted|restored` (call with the SKU row locked)."""
    events_emit_many(events=[sku_draft(sku, action)])


def emit_skus(skus: Iterable[SKU], action: str) -> None:
    """One event per SKU, in order (bulk writes: cascades, imports, purges)."""
    events_emit_many(events=[sku_draft(sku, action) for sku in skus])


def emit_product(product: Product, action: str) -> None:
    """`catalog.product.created|updated|deleted|restored`."""
    events_emit_many(events=[EventDraft(f"catalog.product.{action}", f"product:{product.pk}", product_data(product))])


def emit_category(category: Category, action: str) -> None:
    """`catalog.category.created|updated|deleted|restored|moved`."""
    events_emit_many(
        events=[EventDraft(f"catalog.category.{action}", f"category:{category.pk}", category_data(category))]
    )


READ_BATCH = 5000
# Model, payload, aggregate prefix, type prefix, SKU code of the payload. The payload functions
# read attributes only, so they also take the plain rows of `_stored`.
_BULK: tuple[tuple[type[models.Model], Callable[[Any], dict[str, Any]], str, str, str | None], ...] = (
    (Category, category_data, "category", "catalog.category", None),
    (Product, product_data, "product", "catalog.product", None),
    (SKU, sku_data, "sku", "catalog.sku", "sku_code"),
)


def _stored(model: type[models.Model], ids: list[int]) -> Iterator[SimpleNamespace]:
    """The rows as stored now, in the order of `ids` (plain values: 100k model instances cost seconds)."""
    for start in range(0, len(ids), READ_BATCH):
        chunk = ids[start : start + READ_BATCH]
        rows = {row["id"]: row for row in model._base_manager.filter(pk__in=chunk).values()}
        for pk in chunk:
            yield SimpleNamespace(pk=pk, **rows[pk])


def emit_bulk_writes(
    *,
    categories: Iterable[tuple[int, str]] = (),
    products: Iterable[tuple[int, str]] = (),
    skus: Iterable[tuple[int, str]] = (),
) -> int:
    """One event per written object of a bulk write, read back after the write, in one COPY.

    Each argument lists `(id, action)` pairs, in the order they were written; categories
    come first, then products, then SKUs (parents before children).
    """

    def drafts() -> Iterator[EventDraft]:
        for (model, payload, aggregate, prefix, code), pairs in zip(_BULK, (categories, products, skus), strict=True):
            pairs = list(pairs)
            actions = [action for _, action in pairs]
            for row, action in zip(_stored(model, [pk for pk, _ in pairs]), actions, strict=True):
                yield EventDraft(
                    f"{prefix}.{action}", f"{aggregate}:{row.pk}", payload(row), getattr(row, code) if code else ""
                )

    return events_emit_bulk(events=drafts())
