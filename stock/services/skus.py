"""What stock adds to the catalog's SKU writes: initial stock on create, and no soft delete of
SKUs that hold reserved stock.

The catalog knows nothing of stock; `stock` builds on it: the create service wraps the
catalog's, and the delete rule answers the catalog's `skus_hiding` signal (connected in
`StockConfig.ready`), so every face that hides SKUs meets it.
"""

from typing import Any

from django.db import transaction

from catalog import services as catalog_services
from catalog.models import SKU
from inventory_site.types import Actor
from stock.exceptions import HasReservedStock
from stock.models import StockLevel
from stock.selectors import with_effective_quantities
from stock.services.ledger import quantity_check
from stock.services.levels import stock_receive


def skus_with_reserved_stock(sku_ids: list[int]) -> list[str]:
    """Codes of those SKUs that hold reserved stock in some warehouse, locking their levels.

    Units of reservations past `expires_at` no longer count, recorded or not.
    """
    if not sku_ids:
        return []
    levels = (
        with_effective_quantities(StockLevel.objects.select_for_update(of=("self",)).filter(sku_id__in=sku_ids))
        .order_by("sku_id", "warehouse_id")  # the one lock order of levels
        .values_list("sku__sku_code", "effective_reserved")
    )
    return sorted({code for code, reserved in levels if reserved > 0})


def skus_hiding_refuse_reserved(*, sku_ids: list[int], **kwargs: Any) -> None:
    """Receiver of `catalog.signals.skus_hiding`: `HasReservedStock` while any of them holds reserved stock."""
    reserved_codes = skus_with_reserved_stock(sku_ids)
    if reserved_codes:
        raise HasReservedStock(errors={"sku_codes": reserved_codes})


@transaction.atomic
def sku_create_with_stock(*, inventory_count: int = 0, user: Actor = None, **fields: Any) -> SKU:
    """`catalog.services.sku_create`, then `inventory_count` units received into the default
    warehouse as a `receipt` movement, in the same transaction."""
    quantity_check(inventory_count, field="inventory_count")
    sku = catalog_services.sku_create(user=user, **fields)
    stock_receive(sku=sku, quantity=inventory_count, user=user, reference=f"initial stock {sku.sku_code}")
    return sku
