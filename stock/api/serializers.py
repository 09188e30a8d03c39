"""Shapes of the stock API: what clients send (validated here) and what they read."""

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from catalog.api.serializers import SKUSerializer
from catalog.models import SKU
from inventory_site.api.fields import LinesField, StrictBooleanField, StrictCharField, StrictIntegerField, TextField
from inventory_site.api.serializers import FastReadSerializerMixin, iso_datetime
from stock.api.sku_page import sku_stock_representation
from stock.models import Reservation, StockLevel, StockMovement, Warehouse
from stock.selectors import reservation_status
from stock.services import ADJUSTMENT_REASONS, MAX_QUANTITY, WRITE_OFF_STATES, adjustment_lines_refused
from stock.services.backorders import MAX_BACKORDER_TTL_SECONDS
from stock.services.reservations import MAX_TTL_SECONDS


class QuantityField(StrictIntegerField):
    """A JSON integer (`true`, `1.5`, `"3"` are refused). Its bounds are not checked here: the
    stock service that takes it checks them and names the field (`quantity_check`). `minimum`
    and `maximum` are the service's bounds, shown in the OpenAPI schema only."""

    def __init__(self, *, minimum: int | None = 0, maximum: int | None = MAX_QUANTITY, **kwargs):
        super().__init__(min_value=None, max_value=None, **kwargs)
        self.min_value, self.max_value = minimum, maximum  # read by drf-spectacular; no validator


# --- Read shapes ---------------------------------------------------------------------


class WarehouseSerializer(FastReadSerializerMixin, serializers.ModelSerializer):
    code = StrictCharField(
        max_length=20, trim_whitespace=False, help_text="1-20 of A-Z, 0-9, '_', '-'; lowercase is uppercased."
    )
    name = StrictCharField(
        max_length=100,
        trim_whitespace=False,
        help_text="Up to 100 characters, not blank, no control characters (the warehouse service's rule).",
    )
    is_active = StrictBooleanField(required=False)
    is_default = StrictBooleanField(required=False, help_text="Making one the default unsets the old one.")
    priority = QuantityField(
        required=False,
        help_text="Reservations that name no warehouse try warehouses by priority: lower first, "
        "the default first among equals (STOCK_ALLOCATION_STRATEGY=priority). Default 100.",
    )

    class Meta:
        model = Warehouse
        fields = [
            "id",
            "code",
            "name",
            "is_active",
            "is_default",
            "priority",
            "version",
            "created_at",
            "updated_at",
            "is_deleted",
            "deleted_at",
        ]
        read_only_fields = ["version", "created_at", "updated_at", "is_deleted", "deleted_at"]


class StockLevelSerializer(FastReadSerializerMixin, serializers.ModelSerializer):
    sku_id = serializers.IntegerField(read_only=True)
    sku_code = serializers.CharField(source="sku.sku_code", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)
    reserved = serializers.SerializerMethodField(help_text="Held by active, unexpired reservations (allocated units).")
    sellable = serializers.SerializerMethodField(
        help_text="on_hand - reserved - damaged - quality_control: what state moves and write-offs may take from.",
    )
    available = serializers.SerializerMethodField(
        help_text="max(0, on_hand - reserved - damaged - quality_control - safety_stock): what can be reserved.",
    )
    is_low = serializers.SerializerMethodField(help_text="available <= low_stock_threshold.")
    low_stock_threshold = StrictIntegerField()
    safety_stock = StrictIntegerField(help_text="Units held back from sale (a setting, writable).")
    reorder_point = StrictIntegerField(
        allow_null=True,
        help_text="Suggest a reorder when available + incoming - backordered <= this; null: off.",
    )
    reorder_quantity = StrictIntegerField(
        allow_null=True,
        help_text="Units to suggest; null: enough to reach twice the reorder point.",
    )

    class Meta:
        model = StockLevel
        fields = [
            "id",
            "sku_id",
            "sku_code",
            "warehouse",
            "on_hand",
            "reserved",
            "damaged",
            "quality_control",
            "sellable",
            "safety_stock",
            "available",
            "incoming",
            "backordered",
            "low_stock_threshold",
            "is_low",
            "reorder_point",
            "reorder_quantity",
            "version",
            "updated_at",
        ]
        read_only_fields = ["on_hand", "damaged", "quality_control", "incoming", "backordered", "version", "updated_at"]

    def get_reserved(self, level) -> int:
        return getattr(level, "effective_reserved", level.reserved)

    def get_sellable(self, level) -> int:
        return level.on_hand - self.get_reserved(level) - level.damaged - level.quality_control

    def get_available(self, level) -> int:
        return level.effective_available  # the database's `stock_available` (selectors.with_effective_quantities)

    def get_is_low(self, level) -> bool:
        return level.effective_is_low


class MovementSerializer(FastReadSerializerMixin, serializers.ModelSerializer):
    sku_id = serializers.IntegerField(read_only=True)
    sku_code = serializers.CharField(source="sku.sku_code", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)
    reservation_id = serializers.IntegerField(read_only=True, allow_null=True)
    state_from = serializers.CharField(
        read_only=True,
        help_text="State the units left: sellable, damaged, quality_control; empty: from outside.",
    )
    state_to = serializers.CharField(
        read_only=True,
        help_text="State the units went into; empty: out of the level (or plain sellable stock).",
    )
    quantity = serializers.IntegerField(read_only=True, allow_null=True, help_text="Units moved between states.")
    inbound_id = serializers.IntegerField(read_only=True, allow_null=True, help_text="The inbound shipment received.")
    created_by: "serializers.SlugRelatedField[Any]" = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "sku_id",
            "sku_code",
            "warehouse",
            "delta",
            "reason",
            "reference",
            "note",
            "reservation_id",
            "balance_after",
            "state_from",
            "state_to",
            "quantity",
            "inbound_id",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields


class ReservationLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    sku_id = serializers.IntegerField(read_only=True)
    sku_code = serializers.CharField(source="sku.sku_code", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)
    quantity = serializers.IntegerField(read_only=True, help_text="Units asked for: allocated + backordered.")
    allocated = serializers.IntegerField(read_only=True, help_text="Units held in the level's reserved.")
    backordered = serializers.IntegerField(read_only=True, help_text="Units waiting on incoming stock.")


class ReservationSerializer(FastReadSerializerMixin, serializers.ModelSerializer):
    status = serializers.SerializerMethodField(help_text="active, committed, released or expired (from expires_at on).")
    backordered = serializers.SerializerMethodField(help_text="Whether some line still waits on incoming stock.")
    lines = ReservationLineSerializer(many=True, read_only=True)

    class Meta:
        model = Reservation
        fields = ["id", "reference", "status", "expires_at", "backordered", "lines", "created_at", "updated_at"]
        read_only_fields = fields

    def get_status(self, reservation) -> str:
        return reservation_status(reservation)

    def get_backordered(self, reservation) -> bool:
        return any(line.backordered for line in reservation.lines.all())


def reservation_representation(reservation: Reservation) -> dict:
    """`ReservationSerializer(reservation).data` for a reservation whose lines (with their SKU
    and warehouse) are attached, without building the serializer's fields: the hot path of
    `POST /stock/reservations/` spent a fifth of its CPU on that."""
    return {
        "id": reservation.pk,
        "reference": reservation.reference,
        "status": reservation_status(reservation),
        "expires_at": iso_datetime(reservation.expires_at),
        "backordered": any(line.backordered for line in reservation.lines.all()),
        "lines": [
            {
                "id": line.pk,
                "sku_id": line.sku_id,
                "sku_code": line.sku.sku_code,
                "warehouse": line.warehouse.code,
                "quantity": line.quantity,
                "allocated": line.allocated,
                "backordered": line.backordered,
            }
            for line in reservation.lines.all()
        ],
        "created_at": iso_datetime(reservation.created_at),
        "updated_at": iso_datetime(reservation.updated_at),
    }


@extend_schema_field(
    {
        "type": "array",
        "items": {"allOf": [{"$ref": "#/components/schemas/Movement"}], "nullable": True},
        "description": "In line order; null for a count that matched on-hand.",
    }
)
class NullableMovementsField(serializers.ListField):
    child = MovementSerializer(allow_null=True)


class MovementsAndLevelsSerializer(serializers.Serializer):
    movements = NullableMovementsField()
    levels = StockLevelSerializer(many=True)


class MovementAndLevelSerializer(serializers.Serializer):
    movement = MovementSerializer(allow_null=True)
    level = StockLevelSerializer()


# --- Write shapes --------------------------------------------------------------------


class StockLevelUpdateSerializer(serializers.Serializer):
    """What a PATCH may change: the settings (threshold, safety stock, reorder point and quantity).
    Read-only fields sent along are ignored."""

    low_stock_threshold = QuantityField(required=False)
    safety_stock = QuantityField(required=False, help_text="Units held back from sale.")
    reorder_point = QuantityField(required=False, allow_null=True, help_text="null: off.")
    reorder_quantity = QuantityField(
        minimum=1, required=False, allow_null=True, help_text="null: enough to reach twice the reorder point."
    )
    version = StrictIntegerField(min_value=1, required=False)


def _resolve_sku(attrs: dict, errors: dict) -> None:
    """`sku_code` or `sku_id` (both: they must name the same SKU) -> `attrs["sku"]`."""
    given = {field: attrs.pop(field) for field in ("sku_code", "sku_id") if attrs.get(field) is not None}
    attrs.pop("sku_code", None), attrs.pop("sku_id", None)
    if not given:
        errors["sku_code"] = ["Give sku_code or sku_id."]
        return
    found = {}
    for field, value in given.items():
        sku = (SKU.all_objects.with_code(value) if field == "sku_code" else SKU.all_objects.filter(pk=value)).first()
        if sku is None:
            errors[field] = ["No SKU with this code." if field == "sku_code" else "No SKU with this id."]
        elif sku.is_deleted:
            errors[field] = ["This SKU is deleted."]
        else:
            found[field] = sku
    if errors:
        return
    if len({sku.pk for sku in found.values()}) > 1:
        errors["sku_id"] = ["sku_code and sku_id name different SKUs."]
        return
    attrs["sku"] = next(iter(found.values()))


def _resolve_warehouse(attrs: dict, field: str, errors: dict, *, required: bool = False) -> None:
    code = attrs.pop(field, None)
    if code is None:
        if required:
            errors[field] = ["This field is required."]
        attrs[field] = None
        return
    warehouse = Warehouse.all_objects.filter(code=code.upper()).first()  # codes are stored upper case
    if warehouse is None:
        errors[field] = ["No warehouse with this code."]
    elif warehouse.is_deleted:
        errors[field] = ["This warehouse is deleted."]
    else:
        attrs[field] = warehouse


class SkuAndWarehouseMixin:
    """Turns `sku_code`/`sku_id` and warehouse codes into objects (400 when unknown or deleted)."""

    warehouse_fields: tuple[str, ...] = ("warehouse",)
    required_warehouses: tuple[str, ...] = ()

    def validate(self, attrs):
        errors: dict = {}
        _resolve_sku(attrs, errors)
        for field in self.warehouse_fields:
            _resolve_warehouse(attrs, field, errors, required=field in self.required_warehouses)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class AdjustmentSerializer(SkuAndWarehouseMixin, serializers.Serializer):
    sku_code = StrictCharField(max_length=50, required=False)
    sku_id = StrictIntegerField(min_value=1, required=False)
    warehouse = StrictCharField(max_length=20, required=False, help_text="Default: the default warehouse.")
    delta = QuantityField(minimum=-MAX_QUANTITY, required=False, help_text="Signed change of on-hand; not 0.")
    quantity = QuantityField(required=False, help_text="Set on-hand to this (a count) instead of a delta.")
    expected_on_hand = QuantityField(required=False, help_text="With quantity: refuse (409) unless on-hand is this.")
    reason = serializers.ChoiceField(choices=[str(r) for r in ADJUSTMENT_REASONS])
    from_state = serializers.ChoiceField(
        choices=[str(state) for state in WRITE_OFF_STATES],
        required=False,
        help_text="With reason `damage` and a negative delta: write units of that state off "
        "(on_hand and the state drop together).",
    )
    reference = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    note = TextField(max_length=500, required=False, default="")


def checked_lines(raw, line_serializer) -> tuple[dict[int, dict], dict[str, dict]]:
    """Each line of a request's `lines` through `line_serializer`: the valid lines and the errors
    of the others, both by index (a line that is not an object included)."""
    validated, errors = {}, {}
    for index, line in enumerate(raw):
        if not isinstance(line, dict):
            errors[str(index)] = {"non_field_errors": ["Must be an object."]}
            continue
        serializer = line_serializer(data=line)
        if serializer.is_valid():
            validated[index] = serializer.validated_data
        else:
            errors[str(index)] = serializer.errors
    return validated, errors


def validated_lines(raw, line_serializer) -> list[dict]:
    """The validated lines, or one `ValidationError` naming every bad line by its index."""
    validated, errors = checked_lines(raw, line_serializer)
    if errors:
        raise serializers.ValidationError(errors)
    return list(validated.values())


class BulkAdjustmentSerializer(serializers.Serializer):
    lines = LinesField(AdjustmentSerializer, min_length=1, max_length=1000)

    def validate_lines(self, lines):
        validated, errors = checked_lines(lines, AdjustmentSerializer)
        if errors:
            # One answer names every failing line: the lines of the right shape go through the
            # service's rules too (a refusal there is a field error of its line).
            refused = adjustment_lines_refused(lines=validated)
            errors |= {str(index): exc.errors or {"non_field_errors": [exc.message]} for index, exc in refused.items()}
            raise serializers.ValidationError(dict(sorted(errors.items(), key=lambda item: int(item[0]))))
        return list(validated.values())


class TransferSerializer(SkuAndWarehouseMixin, serializers.Serializer):
    warehouse_fields = required_warehouses = ("from_warehouse", "to_warehouse")

    sku_code = StrictCharField(max_length=50, required=False)
    sku_id = StrictIntegerField(min_value=1, required=False)
    from_warehouse = StrictCharField(max_length=20)
    to_warehouse = StrictCharField(max_length=20)
    quantity = QuantityField(minimum=1, help_text="Not more than is available at the source.")
    reference = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    note = TextField(max_length=500, required=False, default="")


class ReservationLineInputSerializer(serializers.Serializer):
    """A reservation line's shape; its codes are resolved where it is placed (`reservation_create`)."""

    sku_code = StrictCharField(max_length=50, required=False)
    sku_id = StrictIntegerField(min_value=1, required=False)
    quantity = QuantityField(minimum=1)
    warehouse = StrictCharField(
        max_length=20,
        required=False,
        help_text="Default: placed by STOCK_ALLOCATION_STRATEGY (priority: the first warehouse by priority "
        "with enough; most_stock: the one with the most available).",
    )


class ReservationCreateSerializer(serializers.Serializer):
    reference = StrictCharField(max_length=100)
    ttl_seconds = QuantityField(
        minimum=1,
        maximum=MAX_BACKORDER_TTL_SECONDS,
        required=False,
        help_text=f"1..{MAX_TTL_SECONDS} (up to {MAX_BACKORDER_TTL_SECONDS} when a line may be backordered; capped at "
        f"{MAX_TTL_SECONDS} from when every line is allocated); default RESERVATION_TTL_SECONDS "
        f"({settings.RESERVATION_TTL_SECONDS}).",
    )
    lines = LinesField(ReservationLineInputSerializer, min_length=1, max_length=1000)
    allow_split = StrictBooleanField(
        required=False,
        default=False,
        help_text="A line without a warehouse that no single warehouse covers is split over several "
        "(fewest first): one response line per warehouse used.",
    )

    def validate_lines(self, lines):
        return validated_lines(lines, ReservationLineInputSerializer)


# --- The catalog's SKUs with their stock figures -------------------------------------


class SKUStockField(serializers.IntegerField):
    """A read-only stock figure of a SKU summed over warehouses (presented by `stock.api.sku_page`)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)


@extend_schema_serializer(component_name="SKU")
class SKUStockSerializer(SKUSerializer):
    """A sellable variant. `inventory_count` may be given on create only.

    Its fields check the input and name the schema's; a SKU is presented by
    `stock.api.sku_page`, the one presentation of the list and of every single SKU.
    """

    inventory_count = QuantityField(
        required=False,
        help_text="Create only: units received into the default warehouse (a `receipt` movement). "
        "Reads as the total on-hand. Writing it on update is a 400; stock changes go through the stock API.",
    )
    on_hand = SKUStockField(help_text="Units on hand, all warehouses.")
    reserved = SKUStockField(help_text="Units held by active, unexpired reservations, all warehouses.")
    available = SKUStockField(
        help_text="The sum over warehouses of each level's available: "
        "max(0, on_hand - reserved - damaged - quality_control - safety_stock)."
    )

    class Meta(SKUSerializer.Meta):
        fields = (
            "id",
            "sku_code",
            "product_id",
            "price",
            "attributes",
            "backorder_policy",
            "inventory_count",
            "on_hand",
            "reserved",
            "available",
            "created_at",
            "updated_at",
            "version",
            "is_deleted",
            "deleted_at",
        )

    def to_representation(self, instance: SKU) -> dict:
        return sku_stock_representation(instance)

    def validate(self, attrs):
        if self.context.get("for_update") and "inventory_count" in (self.initial_data or {}):
            raise serializers.ValidationError(
                {"inventory_count": ["Read-only after create; change stock through the stock API."]}
            )
        return attrs
