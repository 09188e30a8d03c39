"""The SKU list's plain pages (`?page=&size=` and nothing else) without a FilterSet or serializer.

`plain_page` accepts only what the paginator would accept unchanged (and a UTC time
zone, the one the timestamps are written in); anything else returns None and the
viewset's usual path answers, filters, ordering and 400s included. The rows are
presented field by field as `SKUStockSerializer` presents them (a test compares both).
"""
import json
import math

from django.conf import settings
from django.utils import timezone

from inventory_site.api.envelope import success
from stock.selectors_sku_page import sku_page

PLAIN_PARAMS = frozenset({"page", "size"})


def _whole(raw: str | None, default: int, maximum: int) -> int | None:
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        return None
    return int(raw)


def plain_page(request) -> tuple[int, int] | None:
    """(page, size) of a request the fast path may answer, else None."""
    params = request.query_params
    if not params.keys() <= PLAIN_PARAMS or any(len(params.getlist(key)) != 1 for key in params):
        return None
    if timezone.get_current_timezone_name() != "UTC":
        return None
    size = _whole(params.get("size"), settings.DEFAULT_PAGE_SIZE, settings.MAX_PAGE_SIZE)
    page = _whole(params.get("page"), 1, 2**31 - 1)
    if size is None or page is None:
        return None
    return page, size


def _iso(text: str | None) -> str | None:
    """PostgreSQL's UTC text as Python's isoformat() + `Z` writes it (no `.000000`)."""
    if text is not None and text.endswith(".000000Z"):
        return text[:-8] + "Z"
    return text


def sku_page_envelope(*, page: int, size: int) -> dict:
    """The envelope of one plain page: rows, and `meta` as `PageSizePagination` writes it."""
    rows, total = sku_page(offset=(page - 1) * size, limit=size, now=timezone.now())
    data = [
        {"id": pk, "sku_code": code, "product_id": product_id, "price": price,
         "attributes": None if attributes is None else json.loads(attributes), "backorder_policy": backorder_policy,
         "inventory_count": on_hand, "on_hand": on_hand, "reserved": reserved, "available": available,
         "created_at": _iso(created), "updated_at": _iso(updated), "version": version, "is_deleted": deleted,
         "deleted_at": _iso(deleted_at)}
        for (pk, code, product_id, price, attributes, backorder_policy, created, updated, version, deleted, deleted_at, on_hand,
             reserved, available, _total) in rows
    ]
    meta = {"page": page, "size": size, "total": total, "pages": math.ceil(total / size) if total else 0}
    return success(data, meta=meta)
