"""Shapes of inbound shipments, receipts and reorder suggestions."""

from rest_framework import serializers

from catalog.models import SKU
from inventory_site.api.fields import LinesField, StrictBooleanField, StrictCharField, StrictIntegerField, TextField
from inventory_site.api.serializers import FastReadSerializerMixin
from stock.api.serializers import MovementSerializer, QuantityField, StockLevelSerializer, validated_lines
from stock.models import InboundLine, InboundShipment, InboundStatus, StockLevel, StockState, Warehouse

# --- Read shapes ---------------------------------------------------------------------


class InboundLineSerializer(serializers.ModelSerializer):
    sku_id = serializers.IntegerField(read_only=True)
    sku_code = serializers.CharField(source="sku.sku_code", read_only=True)
    quantity_outstanding = serializers.IntegerField(read_only=True, help_text="Still counted in incoming.")

    class Meta:
        model = InboundLine
        fields = ["id", "sku_id", "sku_code", "quantity_expected", "quantity_received", "quantity_outstanding"]
        read_only_fields = fields


class InboundShipmentSerializer(FastReadSerializerMixin, serializers.ModelSerializer):
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)
    lines = InboundLineSerializer(many=True, read_only=True)

    class Meta:
        model = InboundShipment
        fields = [
            "id",
            "reference",
            "supplier",
            "warehouse",
            "expected_at",
            "status",
            "lines",
            "note",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ReceiptSerializer(serializers.Serializer):
    shipment = InboundShipmentSerializer()
    movements = MovementSerializer(many=True)
    levels = StockLevelSerializer(many=True)


class ReorderSuggestionSerializer(serializers.ModelSerializer):
    level_id = serializers.IntegerField(source="pk", read_only=True)
    sku_id = serializers.IntegerField(read_only=True)
    sku_code = serializers.CharField(source="sku.sku_code", read_only=True)
    warehouse = serializers.CharField(source="warehouse.code", read_only=True)
    projected = serializers.IntegerField(read_only=True, help_text="available + incoming - backordered.")
    suggested_quantity = serializers.IntegerField(
        read_only=True, help_text="reorder_quantity, else enough to bring `projected` to twice the reorder point."
    )

    class Meta:
        model = StockLevel
        fields = [
            "level_id",
            "sku_id",
            "sku_code",
            "warehouse",
            "on_hand",
            "incoming",
            "backordered",
            "projected",
            "reorder_point",
            "reorder_quantity",
            "suggested_quantity",
        ]
        read_only_fields = fields


# --- Write shapes --------------------------------------------------------------------


def _sku(code: str):
    sku = SKU.all_objects.with_code(code).first()
    if sku is None:
        raise serializers.ValidationError({"sku_code": ["No SKU with this code."]})
    if sku.is_deleted:
        raise serializers.ValidationError({"sku_code": ["This SKU is deleted."]})
    return sku


def warehouse_from_code(code: str) -> Warehouse:
    warehouse = Warehouse.all_objects.filter(code=code.upper()).first()
    if warehouse is None:
        raise serializers.ValidationError("No warehouse with this code.")
    if warehouse.is_deleted:
        raise serializers.ValidationError("This warehouse is deleted.")
    return warehouse


class InboundLineInputSerializer(serializers.Serializer):
    sku_code = StrictCharField(max_length=50)
    quantity_expected = QuantityField(minimum=1)

    def validate(self, attrs):
        attrs["sku"] = _sku(attrs.pop("sku_code"))
        return attrs


class ReceiptLineInputSerializer(serializers.Serializer):
    sku_code = StrictCharField(max_length=50)
    quantity = QuantityField(minimum=1)
    state = serializers.ChoiceField(
        choices=StockState.values, default=StockState.SELLABLE, help_text="The state the units arrive in."
    )

    def validate(self, attrs):
        attrs["sku"] = _sku(attrs.pop("sku_code"))
        return attrs


class InboundWriteSerializer(serializers.Serializer):
    """Create (`reference`, `warehouse`, `lines` required) or edit a draft (any of them)."""

    reference = StrictCharField(max_length=100, help_text="Unique, e.g. the purchase order number.")
    supplier = TextField(max_length=200, required=False)
    warehouse = StrictCharField(max_length=20)
    expected_at = serializers.DateTimeField(required=False, allow_null=True)
    note = TextField(max_length=500, required=False)
    lines = LinesField(
        InboundLineInputSerializer, min_length=1, max_length=1000, help_text="On edit: replaces every line."
    )
    version = StrictIntegerField(min_value=1, required=False, help_text="On edit: the version you read.")

    def validate_warehouse(self, value):
        return warehouse_from_code(value)

    def validate_lines(self, lines):
        return validated_lines(lines, InboundLineInputSerializer)


class ReceiveSerializer(serializers.Serializer):
    lines = LinesField(ReceiptLineInputSerializer, min_length=1, max_length=1000)
    allow_over_receipt = StrictBooleanField(default=False, help_text="Accept more than expected.")
    note = TextField(max_length=500, required=False, default="")

    def validate_lines(self, lines):
        return validated_lines(lines, ReceiptLineInputSerializer)


class CreateDraftsSerializer(serializers.Serializer):
    supplier = TextField(max_length=200)
    warehouse = StrictCharField(max_length=20)
    level_ids = serializers.ListField(
        child=StrictIntegerField(min_value=1),
        required=False,
        max_length=1000,
        help_text="Default: every suggestion of the warehouse.",
    )
    reference = StrictCharField(max_length=100, required=False, help_text="Default: RO-<warehouse>-<time>-<random>.")

    def validate_warehouse(self, value):
        return warehouse_from_code(value)


STATUS_CHOICES = InboundStatus.choices
