"""The write shape of `POST /stock/state-moves/` (the read shapes are those of `serializers`)."""

from rest_framework import serializers

from inventory_site.api.fields import StrictCharField, StrictIntegerField, TextField
from stock.api.serializers import QuantityField, SkuAndWarehouseMixin
from stock.models import StockState
from stock.services import STATE_MOVE_REASONS


class StateMoveSerializer(SkuAndWarehouseMixin, serializers.Serializer):
    """`quantity` units of one level from one state to another; on_hand does not change."""

    sku_code = StrictCharField(max_length=50, required=False)
    sku_id = StrictIntegerField(min_value=1, required=False)
    warehouse = StrictCharField(max_length=20, required=False, help_text="Default: the default warehouse.")
    quantity = QuantityField(minimum=1, help_text="Not more than the source state holds (409 insufficient_stock).")
    # `from` is a Python keyword: the fields are named in `get_fields`.
    reason = serializers.ChoiceField(choices=[str(r) for r in STATE_MOVE_REASONS])
    reference = StrictCharField(max_length=100, required=False, allow_blank=True, default="")
    note = TextField(max_length=500, required=False, default="")

    def get_fields(self):
        fields = super().get_fields()
        states = StockState.choices  # one component for both (ENUM_NAME_OVERRIDES: StockStateEnum)
        fields["from"] = serializers.ChoiceField(
            choices=states,
            help_text="sellable (on hand in no other state; may take safety stock), damaged or quality_control.",
        )
        fields["to"] = serializers.ChoiceField(choices=states, help_text="Another state than from.")
        return fields

    def validate(self, attrs):
        attrs = super().validate(attrs)
        attrs["from_state"], attrs["to_state"] = attrs.pop("from"), attrs.pop("to")
        if attrs["from_state"] == attrs["to_state"]:
            raise serializers.ValidationError({"to": ["Must differ from from."]})
        return attrs
