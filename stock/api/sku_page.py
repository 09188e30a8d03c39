"""The SKUs of the API with their stock, as JSON: the rows of `stock.selectors_sku_page.sku_page`.

Every SKU the API shows goes through here: the pages of `GET /api/v1/skus/` (the
FilterSet and ordering choose the rows, `SKUPagePagination` cuts and counts the page in
the one statement) and each single SKU (`SKUStockSerializer.to_representation`: the
detail and the answers to writes).
"""

import json
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from catalog.models import SKU
from inventory_site.api.pagination import PageSizePagination
from inventory_site.api.serializers import iso_datetime
from stock.selectors_sku_page import sku_page

PAGE_PARAMETERS = frozenset({"page", "size"})


def _iso(text: str | None, utc: bool) -> str | None:
    """PostgreSQL's UTC text as the API writes timestamps (`iso_datetime`): in UTC, Python's
    isoformat() + `Z` (no `.000000`); in another current time zone, converted to it."""
    if text is None:
        return None
    if not utc:
        return iso_datetime(datetime.fromisoformat(text))
    return text[:-8] + "Z" if text.endswith(".000000Z") else text


def sku_stock_rows(skus: QuerySet, *, offset: int = 0, limit: int) -> tuple[list[dict], int]:
    """The SKUs of `skus` from `offset` (at most `limit`) as the API presents them, and how many `skus` has."""
    rows, total = sku_page(skus, offset=offset, limit=limit, now=timezone.now())
    utc = timezone.get_current_timezone_name() == "UTC"
    data = [
        {
            "id": pk,
            "sku_code": code,
            "product_id": product_id,
            "price": price,
            "attributes": None if attributes is None else json.loads(attributes),
            "backorder_policy": backorder_policy,
            "inventory_count": on_hand,
            "on_hand": on_hand,
            "reserved": reserved,
            "available": available,
            "created_at": _iso(created, utc),
            "updated_at": _iso(updated, utc),
            "version": version,
            "is_deleted": deleted,
            "deleted_at": _iso(deleted_at, utc),
        }
        for (
            pk,
            code,
            product_id,
            price,
            attributes,
            backorder_policy,
            created,
            updated,
            version,
            deleted,
            deleted_at,
            on_hand,
            reserved,
            available,
        ) in rows
    ]
    return data, total


def sku_stock_representation(sku: SKU) -> dict:
    """One SKU (deleted or not) as the list presents it, its stock read now."""
    rows, _total = sku_stock_rows(SKU.all_objects.filter(pk=sku.pk), limit=1)
    return rows[0]


class SKUPagePagination(PageSizePagination):
    """The paginator's `page` and `size` rules and `meta`; the page is the presented rows of `sku_stock_rows`."""

    def paginate_queryset(self, queryset, request, view=None):
        self.size = self._positive_int(
            request, self.size_query_param, settings.DEFAULT_PAGE_SIZE, settings.MAX_PAGE_SIZE
        )
        self.page = self._positive_int(request, self.page_query_param, 1)
        rows, self.total = sku_stock_rows(queryset, offset=(self.page - 1) * self.size, limit=self.size)
        return rows
