"""Reorder suggestions: levels whose stock to come no longer covers their reorder point."""

from django.db.models import BigIntegerField, Case, ExpressionWrapper, F, QuerySet, Value, When
from django.db.models.functions import Greatest

from stock.models import StockLevel
from stock.selectors import LevelAvailable, bigint


def reorder_suggestions(levels: QuerySet | None = None) -> QuerySet:
    """Levels of active SKUs in active warehouses where `available + incoming - backordered <=
    reorder_point`, annotated with `projected` (that figure) and `suggested_quantity`
    (`reorder_quantity`, else enough to bring `projected` to twice the reorder point, at least 1)."""
    levels = StockLevel.objects.all() if levels is None else levels
    projected = ExpressionWrapper(
        LevelAvailable() + bigint("incoming") - bigint("backordered"), output_field=BigIntegerField()
    )
    return (
        levels.filter(reorder_point__isnull=False, sku__is_deleted=False, warehouse__is_deleted=False)
        .annotate(projected=projected)
        .filter(projected__lte=F("reorder_point"))
        .annotate(
            suggested_quantity=Case(
                When(reorder_quantity__isnull=False, then=bigint("reorder_quantity")),
                default=Greatest(
                    bigint("reorder_point") * 2 - F("projected"), Value(1), output_field=BigIntegerField()
                ),
                output_field=BigIntegerField(),
            )
        )
        .select_related("sku", "warehouse")
        .order_by("warehouse__code", "sku__sku_code")
    )
