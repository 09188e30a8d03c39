"""A page of SKUs with their stock, in one written-out statement: how every SKU of the API is read.

`GET /api/v1/skus/` is the catalog's hottest read. Through the ORM it cost a count, a page of
model instances and a query of stock sums, each built and compiled per request, and a
psycopg timestamp loader per value. Here one statement takes the list's rows as the
FilterSet and the ordering left them (any SKU queryset), cuts the page of their ids first
(LIMIT/OFFSET in the queryset's own order), sums stock for those ids only, counts the rows,
and lets PostgreSQL write the timestamps and prices as the API writes them. The number of
active SKUs is not counted but read from `catalog_sku_active_count` (kept exact by the
database's triggers, see catalog migration 0005: it costs 16 rows where a count cost
100,000) when the rows are exactly the active SKUs.
"""

from datetime import datetime
from functools import cache
from weakref import WeakKeyDictionary

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

from catalog.models import SKU
from catalog.selectors import ACTIVE_SKU_COUNT_SQL
from stock.models import ReservationStatus, StockLevel
from stock.selectors import level_available_sql, overdue_sql

# ISO 8601 in UTC with microseconds, as Python's isoformat() writes them (its `.000000`
# is dropped by the caller, like isoformat() does).
_UTC_ISO = '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\''

# The columns of a row of `sku_page`, in order.
SKU_PAGE_COLUMNS = (
    "id",
    "sku_code",
    "product_id",
    "price",
    "attributes",
    "backorder_policy",
    "created_at",
    "updated_at",
    "version",
    "is_deleted",
    "deleted_at",
    "on_hand",
    "reserved",
    "available",
)


def _utc_text(column: str) -> str:
    return f"to_char(s.{column} AT TIME ZONE 'UTC', {_UTC_ISO})"


def _statement(*, ids: str, total: str) -> str:
    """The page's statement around the SQL of its ids (`ids`, in order) and of its row count (`total`).

    One row even for a page past the end (the total, the SKU's columns NULL). The page's ids
    are an array in the queryset's order, numbered by `WITH ORDINALITY`, which the rows keep.
    """
    # SUM of bigint is numeric in PostgreSQL: cast back, or the figures read as Decimals (60.0 in JSON).
    sku, level = SKU._meta.db_table, StockLevel._meta.db_table
    reserved = "l.reserved::bigint - o.overdue"
    available = level_available_sql("l", reserved=reserved)
    return (
        f"SELECT p.*, t.total FROM (SELECT {total} AS total) t LEFT JOIN LATERAL ("
        f"SELECT s.id, s.sku_code, s.product_id, s.price::text, s.attributes, s.backorder_policy,"
        f" {_utc_text('created_at')}, {_utc_text('updated_at')}, s.version, s.is_deleted, {_utc_text('deleted_at')},"
        " COALESCE(st.on_hand, 0), COALESCE(st.reserved, 0), COALESCE(st.available, 0), page.n"
        f" FROM unnest(ARRAY({ids})) WITH ORDINALITY AS page(id, n)"
        f" JOIN {sku} s ON s.id = page.id"
        f" LEFT JOIN LATERAL (SELECT SUM(l.on_hand::bigint)::bigint AS on_hand, SUM({reserved})::bigint AS reserved,"
        f" SUM({available})::bigint AS available"
        f" FROM {level} l CROSS JOIN LATERAL (SELECT {overdue_sql('l')} AS overdue) o"
        " WHERE l.sku_id = s.id) st ON true"
        ") p ON true ORDER BY p.n"
    )


@cache
def _active_skus_sql() -> tuple[str, tuple]:
    return SKU.all_objects.filter(is_deleted=False).order_by().values("pk").query.sql_with_params()


def _total_sql(skus: QuerySet) -> tuple[str, tuple]:
    """SQL of the number of rows of `skus`: the kept count when they are the active SKUs, else a count."""
    rows_sql, params = skus.order_by().values("pk").query.sql_with_params()
    if (rows_sql, params) == _active_skus_sql():
        return ACTIVE_SKU_COUNT_SQL, ()
    return f"(SELECT count(*) FROM ({rows_sql}) rows)", params


# The statement and its parameters of each queryset given, while it lives: the list without
# filters passes one and the same queryset on every request (see SKUStockViewSet.filter_queryset).
_statements: "WeakKeyDictionary[QuerySet, tuple[str, list]]" = WeakKeyDictionary()


def _page_statement(skus: QuerySet) -> tuple[str, list]:
    """The statement of `skus`'s pages and its leading parameters (LIMIT, OFFSET, the active status
    and now follow). LIMIT and OFFSET are parameters (a slice's Django writes into the SQL): one
    statement text for every page, which PostgreSQL plans once (psycopg prepares it)."""
    compiled = _statements.get(skus)
    if compiled is None:
        ids_sql, ids_params = skus.values_list("pk", flat=True).query.sql_with_params()
        total_sql, total_params = _total_sql(skus)
        compiled = _statements[skus] = (
            _statement(ids=f"{ids_sql} LIMIT %s OFFSET %s", total=total_sql),
            [*total_params, *ids_params],
        )
    return compiled


def sku_page(skus: QuerySet, *, offset: int, limit: int, now: datetime) -> tuple[list[tuple], int]:
    """The SKUs of `skus` (in its order) from `offset`, at most `limit`, and how many `skus` has.

    Each row has the `SKU_PAGE_COLUMNS`: price as text with 2 places, attributes as JSON
    text, timestamps as UTC ISO text, and the stock summed over the SKU's levels: on_hand,
    reserved (without overdue reservations, as every read counts them) and available
    (each level's, summed).
    """
    try:
        statement, params = _page_statement(skus)
    except EmptyResultSet:  # a filter that can match nothing (`.none()`, e.g. a code no SKU can have)
        return [], 0
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, limit, offset, ReservationStatus.ACTIVE, now])
        rows = cursor.fetchall()
    total = rows[0][-1]
    return [row[: len(SKU_PAGE_COLUMNS)] for row in rows if row[0] is not None], total
