"""Serializer fields with the contract's strict input rules (JSON types, ranges, free text, attributes)."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory_site.validators import validate_text

MAX_INT = 2**31 - 1


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: `true`, `1.5`, `"3"` are refused; 0..2^31-1 unless told otherwise."""

    default_error_messages = {"invalid": "A whole number is required."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_INT)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """A JSON `true` or `false` only: `"yes"`, `"true"`, `1`, `"on"` are refused (DRF's own field
    takes them all)."""

    default_error_messages = {"invalid": "Must be true or false (a JSON boolean)."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictCharField(serializers.CharField):
    """A JSON string only: numbers and booleans are refused instead of turned into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TextField(StrictCharField):
    """Free text: may be empty, newlines allowed, other control characters refused."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.validators.append(validate_text)


@extend_schema_field({"type": "object", "additionalProperties": True}, component_name="Attributes")
class AttributesField(serializers.JSONField):
    """`attributes`: any JSON value, documented as an object. The rule (an object, at most
    16 KiB serialized and 5 levels deep) is the owning service's, so every face answers the same."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text",
            "A JSON object (not a list or scalar), at most 16 KiB serialized and nested at most 5 deep.",
        )
        super().__init__(**kwargs)


class PriceField(serializers.DecimalField):
    """A price, as a decimal string or a number; shown as a string with 2 places.

    Only the shape is checked here (not a boolean, a list...): the value is passed on as
    text to the service, whose rule refuses out-of-range values and more than 2 places
    (never rounding them), so every face answers the same.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 10)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault(
            "help_text", 'Decimal >= 0 and <= 99999999.99 with at most 2 places; read as a string, e.g. "19.99".'
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float, Decimal)):
            self.fail("invalid")
        return data if isinstance(data, str) else str(data)


class LinesField(serializers.ListField):
    """The `lines` of a bulk request: a list of JSON objects, each checked by the owning
    serializer (so that a bad line is named by its index); documented as a list of
    `line_serializer`."""

    child = serializers.JSONField()

    def __init__(self, line_serializer, **kwargs):
        self.line_serializer = line_serializer
        super().__init__(**kwargs)
