"""Query-string filters with the contract's rules: strict booleans, bounded ids, inclusive
date ranges, `include_deleted`, and `?ordering=` on named keys (400 for unknown ones)."""

import datetime

import django_filters
from django import forms
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.filters import OrderingFilter

MAX_INT = 2**31 - 1
NULL = "null"


class StrictBooleanField(forms.Field):
    """`true` or `false` (any case); anything else is an error, not silently ignored."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        lowered = str(value).lower()
        if lowered not in ("true", "false"):
            raise forms.ValidationError("Use true or false.")
        return lowered == "true"


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


class IdFormField(forms.IntegerField):
    """A whole number within 0..2^31-1."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_INT)
        super().__init__(**kwargs)


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": MAX_INT})
class IdFilter(django_filters.Filter):
    """An id (or other whole number) within 0..2^31-1."""

    field_class = IdFormField


class NullableIdField(IdFormField):
    """An id, or the word `null`."""

    def to_python(self, value):
        if isinstance(value, str) and value.lower() == NULL:
            return NULL
        return super().to_python(value)

    def validate(self, value):
        if value != NULL:
            super().validate(value)

    def run_validators(self, value):
        if value != NULL:
            super().run_validators(value)


@extend_schema_field({"type": "string", "pattern": "^([0-9]+|null)$"})
class NullableIdFilter(django_filters.Filter):
    """`?parent_id=5`, or `?parent_id=null` for rows without one."""

    field_class = NullableIdField

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if value == NULL:
            return qs.filter(**{f"{self.field_name}__isnull": True})
        return qs.filter(**{self.field_name: value})


class DateOrDateTimeField(forms.Field):
    """An ISO 8601 date-time (with or without zone) or a bare date."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().replace(" ", "+") if "T" in str(value) else str(value).strip()
        try:
            parsed = datetime.datetime.fromisoformat(text)
            if timezone.is_naive(parsed):
                parsed = timezone.make_aware(parsed)
            parsed.astimezone(datetime.UTC)  # out of range near year 1 or 9999
        except (ValueError, OverflowError) as exc:
            raise forms.ValidationError("Use an ISO 8601 date or date-time, e.g. 2026-11-26T10:00:00Z.") from exc
        if len(text) == 10:  # a bare date
            return parsed.date()
        return parsed


@extend_schema_field({"type": "string", "format": "date-time"})
class InclusiveDateTimeFilter(django_filters.Filter):
    """`created_after` / `created_before`: inclusive; a bare date covers that whole day."""

    field_class = DateOrDateTimeField

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            start = timezone.make_aware(datetime.datetime.combine(value, datetime.time.min))
            if self.lookup_expr == "lte":
                if value == datetime.date.max:
                    return qs
                return qs.filter(**{f"{self.field_name}__lt": start + datetime.timedelta(days=1)})
            return qs.filter(**{f"{self.field_name}__gte": start})
        return qs.filter(**{f"{self.field_name}__{self.lookup_expr}": value})


class SoftDeleteFilterSet(django_filters.FilterSet):
    """Hides soft-deleted rows unless `?include_deleted=true`."""

    include_deleted = StrictBooleanFilter(method="filter_include_deleted", help_text="Also show soft-deleted rows.")

    def filter_include_deleted(self, queryset, name, value):
        return queryset  # applied in filter_queryset, which also runs when the parameter is absent

    def filter_queryset(self, queryset):
        if not self.form.cleaned_data.get("include_deleted"):
            queryset = queryset.filter(is_deleted=False)
        return super().filter_queryset(queryset)


class NamedOrderingFilter(OrderingFilter):
    """`?ordering=name,-created_at` on the keys of the view's `ordering_map`.

    A key may stand for several columns (`"tree": ["tree_id", "lft"]`). Unknown keys are a
    400. The primary key is always the last tie-breaker, so pages never overlap.
    """

    def get_ordering(self, request, queryset, view):
        mapping = getattr(view, "ordering_map", {})
        raw = request.query_params.get(self.ordering_param)
        if not raw:
            return self._with_tiebreak(list(getattr(view, "ordering", None) or ["pk"]))
        ordering: list[str] = []
        unknown: list[str] = []
        for term in (t.strip() for t in raw.split(",")):
            if not term:
                continue
            descending = term.startswith("-")
            columns = mapping.get(term.lstrip("-"))
            if columns is None:
                unknown.append(term)
                continue
            ordering.extend(f"-{c}" if descending else c for c in columns)
        if unknown:
            raise serializers.ValidationError(
                {self.ordering_param: [f"Unknown ordering {', '.join(unknown)!s}; use {', '.join(mapping)}."]}
            )
        return self._with_tiebreak(ordering)

    @staticmethod
    def _with_tiebreak(ordering: list[str]) -> list[str]:
        if not any(o.lstrip("-") in ("pk", "id") for o in ordering):
            ordering.append("pk")
        return ordering

    def get_schema_operation_parameters(self, view):
        keys = ", ".join(getattr(view, "ordering_map", {}))
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": f"Comma-separated keys, `-` for descending: {keys}.",
                "schema": {"type": "string"},
            }
        ]
