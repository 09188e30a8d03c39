"""In-process measurements, with Django set up against the bench database: queries, CPU, integrity."""

from __future__ import annotations

import json
import os
import secrets
import statistics
import time


def setup_django(env: dict[str, str]) -> None:
    for key in (
        "DJANGO_SETTINGS_MODULE",
        "DATABASE_URL",
        "DEBUG",
        "SECRET_KEY",
        "RATE_LIMIT_REQUESTS_PER_MINUTE",
        "ALLOWED_HOSTS",
        "LOG_LEVEL",
        "REDIS_URL",
    ):
        if key in env:
            os.environ[key] = env[key]
        else:
            os.environ.pop(key, None)
    import django

    django.setup()


def create_api_user() -> str:
    """A superuser and its API token (the benchmark's client)."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.create_superuser("bench", "bench@example.com", secrets.token_urlsafe(16))
    return Token.objects.create(user=user).key


def count_queries(path: str, token: str, *, repeats: int = 5, body: str | None = None) -> dict:
    """SQL queries of one GET (or POST of `body`) through Django's test client, its status, and the median
    CPU milliseconds this process spent on it (a figure that other load on the machine
    disturbs far less than requests/s)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT="application/json")
    counter = iter(range(1 << 30))

    def call():
        if body is None:
            return client.get(path)
        return client.post(path, data=body.replace("$seq", f"probe-{next(counter)}"), content_type="application/json")

    call()  # warm caches (content types, permissions) as a running server has them
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    # Read now: the next request through the client resets Django's query log.
    captured = [q["sql"][:300] for q in ctx.captured_queries]
    cpu = []
    for _ in range(repeats):
        t0 = time.process_time()
        call()
        cpu.append((time.process_time() - t0) * 1000)
    return {
        "queries": len(captured),
        "status": response.status_code,
        "app_cpu_ms": round(statistics.median(cpu), 2),
        "sql": captured,
    }


def tree_floor_ms(repeats: int = 5) -> float:
    """B4 baseline: read all categories with one raw query, nest them and encode JSON."""
    from django.db import connection

    timings = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, name, slug, path, level, parent_id FROM catalog_category "
                "WHERE NOT is_deleted ORDER BY tree_id, lft"
            )
            rows = cursor.fetchall()
        nodes, roots = {}, []
        for id_, name, slug, path, level, parent_id in rows:
            node = {
                "id": id_,
                "name": name,
                "slug": slug,
                "path": path,
                "level": level,
                "parent_id": parent_id,
                "children": [],
            }
            nodes[id_] = node
            (nodes[parent_id]["children"] if parent_id in nodes else roots).append(node)
        json.dumps({"status": "success", "data": roots, "message": "OK", "meta": None})
        timings.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(timings), 2)


def integrity_report(hot_sku_id: int, oversell_sku_id: int) -> dict:
    """Oversell and drift, straight from the tables."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT
              count(*) FILTER (WHERE l.reserved <> coalesce(a.qty, 0)) AS reserved_drift,
              count(*) FILTER (WHERE coalesce(a.qty, 0) + coalesce(c.qty, 0) > r.received) AS oversold_levels,
              count(*) FILTER (WHERE l.on_hand <> coalesce(m.total, 0)) AS ledger_drift
            FROM stock_stocklevel l
            LEFT JOIN (SELECT sku_id, warehouse_id, sum(delta) AS total FROM stock_stockmovement
                       GROUP BY 1, 2) m USING (sku_id, warehouse_id)
            LEFT JOIN (SELECT sku_id, warehouse_id, sum(delta) AS received FROM stock_stockmovement
                       WHERE delta > 0 GROUP BY 1, 2) r USING (sku_id, warehouse_id)
            LEFT JOIN (SELECT rl.sku_id, rl.warehouse_id, sum(rl.quantity) AS qty FROM stock_reservationline rl
                       JOIN stock_reservation res ON res.id = rl.reservation_id
                       WHERE res.status = 'active' GROUP BY 1, 2) a USING (sku_id, warehouse_id)
            LEFT JOIN (SELECT rl.sku_id, rl.warehouse_id, sum(rl.quantity) AS qty FROM stock_reservationline rl
                       JOIN stock_reservation res ON res.id = rl.reservation_id
                       WHERE res.status = 'committed' GROUP BY 1, 2) c USING (sku_id, warehouse_id)
        """)
        reserved_drift, oversold, ledger_drift = cursor.fetchone()
        cursor.execute("SELECT on_hand, reserved FROM stock_stocklevel WHERE sku_id = %s", [oversell_sku_id])
        oversell_level = cursor.fetchone()
        cursor.execute(
            "SELECT coalesce(sum(quantity), 0) FROM stock_reservationline WHERE sku_id = %s", [oversell_sku_id]
        )
        oversell_lines = cursor.fetchone()[0]
        cursor.execute("SELECT on_hand, reserved FROM stock_stocklevel WHERE sku_id = %s", [hot_sku_id])
        hot_level = cursor.fetchone()
    return {
        "reserved_drift_levels": reserved_drift,
        "oversold_levels": oversold,
        "ledger_drift_levels": ledger_drift,
        "oversell_sku": {"on_hand": oversell_level[0], "reserved": oversell_level[1], "lines": oversell_lines},
        "hot_sku": {"on_hand": hot_level[0], "reserved": hot_level[1]},
    }


def has_command(name: str) -> bool:
    from django.core.management import get_commands

    return name in get_commands()
