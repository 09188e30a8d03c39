"""Query-string filters of the stock lists."""

import django_filters

from catalog.api.filters import SKUFilter
from catalog.models import SKU
from inventory_site.api.filters import IdFilter, InclusiveDateTimeFilter, SoftDeleteFilterSet, StrictBooleanFilter
from stock.models import (
    InboundShipment,
    InboundStatus,
    MovementReason,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
    StockMovement,
    Warehouse,
)
from stock.selectors import (
    reservations_with_status,
    skus_in_stock,
    skus_low_stock,
    stock_levels_in_stock,
    stock_levels_low,
    with_stock_totals,
)


class WarehouseFilter(SoftDeleteFilterSet):
    code = django_filters.CharFilter(method="filter_code", help_text="A warehouse code, any case.")
    is_active = StrictBooleanFilter(field_name="is_active")
    is_default = StrictBooleanFilter(field_name="is_default")

    class Meta:
        model = Warehouse
        fields: list[str] = []

    def filter_code(self, queryset, name, value):
        return queryset.filter(code=value.upper()) if value else queryset


class SkuAndWarehouseFilterSet(django_filters.FilterSet):
    """`sku_code` and `warehouse` (codes in any case), served by the code indexes."""

    def filter_sku_code(self, queryset, name, value):
        return queryset.filter(sku__in=SKU.all_objects.with_code(value).values("pk")) if value else queryset

    def filter_warehouse(self, queryset, name, value):
        return queryset.filter(warehouse__code=value.upper()) if value else queryset


class StockLevelFilter(SkuAndWarehouseFilterSet):
    sku_id = IdFilter(field_name="sku_id")
    sku_code = django_filters.CharFilter(method="filter_sku_code", help_text="The exact code, any case.")
    warehouse = django_filters.CharFilter(method="filter_warehouse", help_text="A warehouse code, any case.")
    product_id = IdFilter(field_name="sku__product_id")
    low_stock = StrictBooleanFilter(method="filter_low_stock", help_text="available <= low_stock_threshold.")
    in_stock = StrictBooleanFilter(method="filter_in_stock", help_text="true: available > 0; false: available = 0.")

    class Meta:
        model = StockLevel
        fields: list[str] = []

    def filter_low_stock(self, queryset, name, value):
        return queryset if value is None else stock_levels_low(queryset, value)

    def filter_in_stock(self, queryset, name, value):
        return queryset if value is None else stock_levels_in_stock(queryset, value)


class MovementFilter(SkuAndWarehouseFilterSet):
    sku_id = IdFilter(field_name="sku_id")
    sku_code = django_filters.CharFilter(method="filter_sku_code", help_text="The exact code, any case.")
    warehouse = django_filters.CharFilter(method="filter_warehouse", help_text="A warehouse code, any case.")
    reason = django_filters.ChoiceFilter(choices=MovementReason.choices)
    reference = django_filters.CharFilter(field_name="reference")
    reservation_id = IdFilter(field_name="reservation_id")
    created_after = InclusiveDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = InclusiveDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = StockMovement
        fields: list[str] = []


class ReservationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=ReservationStatus.choices,
        method="filter_status",
        help_text="As read: `expired` includes active reservations past expires_at.",
    )
    reference = django_filters.CharFilter(field_name="reference")
    sku_code = django_filters.CharFilter(method="filter_sku_code")

    class Meta:
        model = Reservation
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        return reservations_with_status(queryset, value) if value else queryset

    def filter_sku_code(self, queryset, name, value):
        if not value:
            return queryset
        lines = ReservationLine.objects.filter(sku__in=SKU.all_objects.with_code(value).values("pk"))
        return queryset.filter(pk__in=lines.values("reservation_id"))


class SKUStockFilter(SKUFilter):
    """The catalog's SKU filters, plus `in_stock` and `low_stock`; `?ordering=available` sorts on stock."""

    in_stock = StrictBooleanFilter(
        method="filter_in_stock",
        help_text=(
            "true: available > 0; false: available = 0"
            " (available: on hand not reserved, damaged, in quality control or safety stock)."
        ),
    )
    low_stock = StrictBooleanFilter(method="filter_low_stock", help_text="Some stock level at or below its threshold.")

    class Meta(SKUFilter.Meta):
        pass

    def filter_in_stock(self, queryset, name, value):
        return queryset if value is None else skus_in_stock(queryset, value)

    def filter_low_stock(self, queryset, name, value):
        return queryset if value is None else skus_low_stock(queryset, value)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # `?ordering=available` sorts on the stock sums, which only then are computed per row.
        ordering = self.request.query_params.get("ordering", "") if self.request is not None else ""
        if "available" in ordering and "stock_available" not in queryset.query.annotations:
            queryset = with_stock_totals(queryset)
        return queryset


class InboundFilter(SkuAndWarehouseFilterSet):
    status = django_filters.ChoiceFilter(choices=InboundStatus.choices)
    warehouse = django_filters.CharFilter(method="filter_warehouse", help_text="A warehouse code, any case.")
    reference = django_filters.CharFilter(field_name="reference")
    supplier = django_filters.CharFilter(
        field_name="supplier", lookup_expr="icontains", help_text="Part of the name, any case."
    )

    class Meta:
        model = InboundShipment
        fields: list[str] = []


class ReorderSuggestionFilter(SkuAndWarehouseFilterSet):
    sku_code = django_filters.CharFilter(method="filter_sku_code", help_text="The exact code, any case.")
    warehouse = django_filters.CharFilter(method="filter_warehouse", help_text="A warehouse code, any case.")

    class Meta:
        model = StockLevel
        fields: list[str] = []
