"""The first pages of the SKU list as the storefront reads them, in one written-out query.

`GET /api/v1/skus/?page=&size=` without filters or ordering is the catalog's hottest read.
Through the ORM it cost a count, a page of model instances and a query of stock sums,
each built and compiled per request, and a psycopg timestamp loader per value. Here one
statement cuts the page of ids first (LIMIT/OFFSET on the partial index `sku_active_id`,
an index-only scan), sums stock for those ids only, reads the number of active SKUs from
`catalog_sku_active_count` (kept exact by the database's triggers, see catalog migration
0005: it costs 16 rows where a count cost 100,000), and lets PostgreSQL write the
timestamps and prices as the API writes them.
"""
from datetime import datetime

from django.db import connection

from catalog.models import SKU
from catalog.selectors import ACTIVE_SKU_COUNT_SQL
from stock.models import ReservationStatus, StockLevel
from stock.selectors import level_available_sql, overdue_sql

# ISO 8601 in UTC with microseconds, as Python's isoformat() writes them (its `.000000`
# is dropped by the caller, like isoformat() does).
_UTC_ISO = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'"


def _utc_text(column: str) -> str:
    return f"to_char(s.{column} AT TIME ZONE 'UTC', {_UTC_ISO})"


def _statement() -> str:
    # SUM of bigint is numeric in PostgreSQL: cast back, or the figures read as Decimals (60.0 in JSON).
    sku, level = SKU._meta.db_table, StockLevel._meta.db_table
    reserved = "l.reserved::bigint - o.overdue"
    available = level_available_sql("l", reserved=reserved)
    return (
        f"SELECT s.id, s.sku_code, s.product_id, s.price::text, s.attributes, s.backorder_policy, {_utc_text('created_at')},"
        f" {_utc_text('updated_at')}, s.version, s.is_deleted, {_utc_text('deleted_at')},"
        " COALESCE(st.on_hand, 0), COALESCE(st.reserved, 0), COALESCE(st.available, 0),"
        f" {ACTIVE_SKU_COUNT_SQL}"
        f" FROM (SELECT id FROM {sku} WHERE NOT is_deleted ORDER BY id LIMIT %(limit)s OFFSET %(offset)s) page"
        f" JOIN {sku} s ON s.id = page.id"
        f" LEFT JOIN LATERAL (SELECT SUM(l.on_hand::bigint)::bigint AS on_hand, SUM({reserved})::bigint AS reserved,"
        f" SUM({available})::bigint AS available"
        f" FROM {level} l CROSS JOIN LATERAL (SELECT {overdue_sql('l', status='%(active)s', now='%(now)s')} AS overdue) o"
        " WHERE l.sku_id = s.id) st ON true"
        " ORDER BY s.id"
    )


def sku_page(*, offset: int, limit: int, now: datetime) -> tuple[list[tuple], int]:
    """Active SKUs by id from `offset`, at most `limit`, and how many active SKUs there are.

    Each row: id, sku_code, product_id, price (text, 2 places), attributes, created_at,
    updated_at (UTC ISO text), version, is_deleted, deleted_at, on_hand, reserved (without
    overdue reservations, as every read counts them), available (summed per level). PostgreSQL only.
    """
    with connection.cursor() as cursor:
        cursor.execute(_statement(), {"limit": limit, "offset": offset, "active": ReservationStatus.ACTIVE, "now": now})
        rows = cursor.fetchall()
        if rows:
            return rows, rows[0][-1]
        cursor.execute(f"SELECT {ACTIVE_SKU_COUNT_SQL}")
        return [], cursor.fetchone()[0]
