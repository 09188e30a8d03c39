"""Draft inbound shipments made from reorder suggestions."""

import secrets

from django.utils import timezone

from inventory_site.types import Actor
from stock.exceptions import InvalidInput
from stock.models import InboundShipment, Warehouse
from stock.selectors_reorder import reorder_suggestions
from stock.services.inbound import InboundLineInput, inbound_create
from stock.services.ledger import MAX_QUANTITY


def reorder_drafts_create(
    *,
    supplier: str,
    warehouse: Warehouse,
    level_ids: list[int] | None = None,
    reference: str | None = None,
    note: str = "",
    user: Actor = None,
) -> InboundShipment:
    """One draft shipment to `warehouse` of its reorder suggestions (all, or those of `level_ids`),
    each line the suggested quantity. `InvalidInput` for a level that is not a suggestion of
    that warehouse, or when there is nothing to reorder."""
    suggestions = list(reorder_suggestions().filter(warehouse=warehouse))
    if level_ids is not None:
        wanted = set(level_ids)
        unknown = sorted(wanted - {level.pk for level in suggestions})
        if unknown:
            raise InvalidInput(
                errors={
                    "level_ids": [
                        f"Not a reorder suggestion of warehouse {warehouse.code}: {', '.join(map(str, unknown))}."
                    ]
                }
            )
        suggestions = [level for level in suggestions if level.pk in wanted]
    if not suggestions:
        raise InvalidInput(errors={"level_ids": [f"Warehouse {warehouse.code} has nothing to reorder."]})
    if reference is None:
        reference = f"RO-{warehouse.code}-{timezone.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2).upper()}"
    return inbound_create(
        reference=reference,
        warehouse=warehouse,
        supplier=supplier,
        note=note,
        user=user,
        lines=[
            InboundLineInput(sku=level.sku, quantity_expected=min(level.suggested_quantity, MAX_QUANTITY))
            for level in suggestions
        ],
    )
