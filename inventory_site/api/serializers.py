"""Serializer building blocks shared by the apps' APIs."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models.query_utils import DeferredAttribute
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.fields import Field, SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

if TYPE_CHECKING:
    _SerializerBase = serializers.Serializer
else:
    _SerializerBase = object


class FastReadSerializerMixin(_SerializerBase):
    """DRF's `to_representation` without its per-row bookkeeping, for model serializers
    that present pages of up to 100 rows.

    The output is exactly DRF's: every readable field still presents its value with its
    own `to_representation`. What goes is the generic part that dominates a long page:
    walking the field list and resolving each field's source again for every row, and
    looking up the current time zone for every timestamp. A field with its own
    `get_attribute`, a dotted or `*` source, or a source that is not a model column or
    an annotation, keeps DRF's path.
    """

    def to_representation(self, instance):
        plan = self.__dict__.get("_read_plan")
        if plan is None:
            plan = self.__dict__["_read_plan"] = self._build_read_plan()
        ret = {}
        for name, attr, field, present in plan:
            if attr is not None:
                try:
                    value = getattr(instance, attr)
                except AttributeError:  # e.g. an annotation this queryset lacks: DRF decides
                    attr = None
                else:
                    ret[name] = None if value is None else present(value)
                    continue
            try:
                value = field.get_attribute(instance)
            except SkipField:
                continue
            check = value.pk if isinstance(value, PKOnlyObject) else value
            ret[name] = None if check is None else field.to_representation(value)
        return ret

    def _build_read_plan(self) -> list[tuple]:
        model = getattr(getattr(self, "Meta", None), "model", None)
        current_tz = timezone.get_current_timezone() if settings.USE_TZ else None
        plan = []
        for field in self._readable_fields:
            attr = None
            if (
                model is not None
                and type(field).get_attribute is Field.get_attribute
                and len(field.source_attrs) == 1
                and field.source != "*"
            ):
                descriptor = getattr(model, field.source_attrs[0], None)
                if descriptor is None or isinstance(descriptor, DeferredAttribute):
                    attr = field.source_attrs[0]  # a column, or an annotation (never callable)
            plan.append((field.field_name, attr, field, _presenter(field, current_tz)))
        return plan


def _presenter(field, current_tz):
    """The field's `to_representation`, or for a plain ISO 8601 timestamp the same
    conversion with the request's time zone looked up once instead of per value."""
    is_iso_datetime = (
        type(field).to_representation is serializers.DateTimeField.to_representation
        and type(field).enforce_timezone is serializers.DateTimeField.enforce_timezone
        and not hasattr(field, "timezone")
        and current_tz is not None
        and str(getattr(field, "format", api_settings.DATETIME_FORMAT) or "").lower() == ISO_8601
    )
    if not is_iso_datetime:
        return field.to_representation
    slow = field.to_representation

    def present_datetime(value):
        if isinstance(value, str) or getattr(value, "tzinfo", None) is None:
            return slow(value)
        try:
            text = value.astimezone(current_tz).isoformat()
        except OverflowError:
            return slow(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return present_datetime


def iso_datetime(value) -> str:
    """A timestamp as `serializers.DateTimeField` presents it (ISO 8601 in the current time
    zone, `Z` for UTC), for hand-built representations of hot paths."""
    text = timezone.localtime(value).isoformat() if settings.USE_TZ else value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
