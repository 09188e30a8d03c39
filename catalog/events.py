"""Events of the catalog: `catalog.<sku|product|category>.<action>`, with the object as the API shows it.

Computed read-outs that need other queries (`product_count`, `sku_count`, and the SKU's
stock totals, which `stock.level.changed` carries) are not in the payload.
"""
from decimal import Decimal

from catalog.models import SKU, Category, Product
from events.services import EventDraft, events_emit_many

TIMESTAMPS = ("created_at", "updated_at", "version", "is_deleted", "deleted_at")


def category_data(category: Category) -> dict:
    return {"id": category.pk, "name": category.name, "slug": category.slug, "description": category.description,
            "parent_id": category.parent_id, "path": category.path, "level": category.level,
            "attributes": category.attributes, **{f: getattr(category, f) for f in TIMESTAMPS}}


def product_data(product: Product) -> dict:
    return {"id": product.pk, "name": product.name, "slug": product.slug, "description": product.description,
            "category_id": product.category_id, "attributes": product.attributes,
            **{f: getattr(product, f) for f in TIMESTAMPS}}


def sku_data(sku: SKU) -> dict:
    return {"id": sku.pk, "sku_code": sku.sku_code, "product_id": sku.product_id, "price": f"{Decimal(sku.price):.2f}",
            "attributes": sku.attributes, **{f: getattr(sku, f) for f in TIMESTAMPS}}


def sku_draft(sku: SKU, action: str) -> EventDraft:
    return EventDraft(f"catalog.sku.{action}", f"sku:{sku.pk}", sku_data(sku), sku.sku_code)


def emit_sku(sku: SKU, action: str) -> None:
    """`catalog.sku.created|updated|deleted|restored` (call with the SKU row locked)."""
    events_emit_many(events=[sku_draft(sku, action)])


def emit_skus(skus, action: str) -> None:
    """One event per SKU, in order (bulk writes: cascades, imports, purges)."""
    events_emit_many(events=[sku_draft(sku, action) for sku in skus])


def emit_product(product: Product, action: str) -> None:
    """`catalog.product.created|updated|deleted|restored`."""
    events_emit_many(events=[EventDraft(f"catalog.product.{action}", f"product:{product.pk}", product_data(product))])


def emit_category(category: Category, action: str) -> None:
    """`catalog.category.created|updated|deleted|restored|moved`."""
    events_emit_many(events=[EventDraft(f"catalog.category.{action}", f"category:{category.pk}",
                                        category_data(category))])
