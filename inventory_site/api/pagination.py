"""`?page=&size=` pagination with the envelope's `meta`."""

import math

from django.conf import settings
from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from inventory_site.api.envelope import success


def one_page_meta(total: int) -> dict:
    """The `meta` of an unpaginated list: one page holding every row (`pages` is 0 without rows)."""
    return {"page": 1, "size": total, "total": total, "pages": 1 if total else 0}


class PageSizePagination(BasePagination):
    """Pages numbered from 1. Out-of-range `page`/`size` is a 400; a page past the end is empty."""

    page_query_param = "page"
    size_query_param = "size"

    def _positive_int(self, request, name: str, default: int, maximum: int | None = None) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise serializers.ValidationError({name: ["Must be a whole number of at least 1."]})
        value = int(raw)
        if maximum is not None and value > maximum:
            raise serializers.ValidationError({name: [f"Must be at most {maximum}."]})
        if value > 2**31 - 1:
            raise serializers.ValidationError({name: ["Is too large."]})
        return value

    def paginate_queryset(self, queryset, request, view=None):
        self.size = self._positive_int(
            request, self.size_query_param, settings.DEFAULT_PAGE_SIZE, settings.MAX_PAGE_SIZE
        )
        self.page = self._positive_int(request, self.page_query_param, 1)
        self.total = queryset.count()
        offset = (self.page - 1) * self.size
        if offset >= self.total:
            return []
        return list(queryset[offset : offset + self.size])

    def get_meta(self) -> dict:
        return {
            "page": self.page,
            "size": self.size,
            "total": self.total,
            "pages": math.ceil(self.total / self.size) if self.total else 0,
        }

    def get_paginated_response(self, data):
        return Response(success(data, meta=self.get_meta()))

    def get_paginated_response_schema(self, schema):
        """The page envelope; `PageMeta` and `SuccessStatus` are components of the schema."""
        return {
            "type": "object",
            "required": ["status", "data", "message", "meta"],
            "properties": {
                "status": {"$ref": "#/components/schemas/SuccessStatus"},
                "data": schema,
                "message": {"type": "string"},
                "meta": {"$ref": "#/components/schemas/PageMeta"},
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page",
                "required": False,
                "in": "query",
                "description": "Page number, from 1.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": "size",
                "required": False,
                "in": "query",
                "description": (
                    f"Rows per page (default {settings.DEFAULT_PAGE_SIZE}, at most {settings.MAX_PAGE_SIZE})."
                ),
                "schema": {"type": "integer", "minimum": 1, "maximum": settings.MAX_PAGE_SIZE},
            },
        ]
