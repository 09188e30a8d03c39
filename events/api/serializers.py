"""Shapes of the events API: the feed's query, subscriptions and the delivery log."""

import re

from rest_framework import serializers

from events.models import EVENT_ID_DIGITS, WebhookDelivery, WebhookSubscription, parse_event_id
from events.signing import is_valid_secret
from inventory_site.api.fields import StrictBooleanField, StrictCharField, TextField

EVENT_PATTERN = re.compile(r"^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$")
MAX_FEED_SIZE = 1000
DEFAULT_FEED_SIZE = 100


class FeedQuerySerializer(serializers.Serializer):
    """`?after=&size=&type=&sku_code=&reference=` of the pull feed."""

    after = serializers.CharField(required=False, max_length=4 + EVENT_ID_DIGITS)
    size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_FEED_SIZE, default=DEFAULT_FEED_SIZE)
    type = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    sku_code = serializers.CharField(required=False, max_length=50)
    reference = serializers.CharField(required=False, max_length=255)

    def validate_after(self, value: str) -> str:
        if parse_event_id(value) is None:
            raise serializers.ValidationError("Must be an event id (evt_...).")
        return value

    def validate_type(self, values: list[str]) -> list[str]:
        types = [t for value in values for t in value.split(",") if t]
        bad = [t for t in types if not EVENT_PATTERN.match(t)]
        if bad:
            raise serializers.ValidationError(
                f"Not an event type or prefix: {bad[0]!r} (e.g. stock.level.changed, stock.*)."
            )
        return types


class EventTypesField(serializers.ListField):
    child = StrictCharField(max_length=64)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        if not values:
            raise serializers.ValidationError("Name at least one event type or prefix.")
        for value in values:
            if not EVENT_PATTERN.match(value):
                raise serializers.ValidationError(f"Not an event type or prefix: {value!r} (e.g. stock.*).")
        return list(dict.fromkeys(values))


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    url = StrictCharField(max_length=2000)
    events = EventTypesField()
    description = TextField(max_length=500, required=False, allow_blank=True)
    is_active = StrictBooleanField(required=False)
    secret: serializers.CharField = StrictCharField(
        write_only=True,
        required=False,
        max_length=200,
        help_text="Generated when not given; shown once, in the 201 response.",
    )

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "events",
            "description",
            "is_active",
            "secret",
            "deactivated_reason",
            "failing_since",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["deactivated_reason", "failing_since", "version", "created_at", "updated_at"]

    def validate_secret(self, value: str) -> str:
        if not is_valid_secret(value):
            raise serializers.ValidationError("Must be whsec_ followed by base64 of 24 to 64 bytes.")
        return value


class WebhookWithSecretSerializer(WebhookSubscriptionSerializer):
    """The subscription and its secret: the answer to create and rotate-secret only."""

    secret = serializers.CharField(read_only=True)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.SerializerMethodField()
    type = serializers.CharField(source="event.type", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "type",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_event_id(self, delivery) -> str:
        return delivery.event.public_id


class DeliveryQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices, required=False)


class EventSerializer(serializers.Serializer):
    """An event as the feed lists it and a webhook body carries it (documentation of the shape)."""

    id = serializers.CharField(help_text="`evt_` and 19 digits; increasing in feed order.")
    type = serializers.CharField(help_text="e.g. `stock.level.changed`, `reservation.created`, `catalog.sku.updated`.")
    created_at = serializers.DateTimeField()
    # A declared field: the serializer metaclass takes it out of the class, so `.data` stays the property.
    data = serializers.DictField(help_text="The object as the API shows it (see the event catalogue).")  # type: ignore[assignment]
