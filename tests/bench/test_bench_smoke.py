"""Keeps the benchmark harness (bench/) importable and working on tiny data; `make bench` runs it for real."""

import asyncio
import json
import socket

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIRequestFactory, force_authenticate

from bench import run as bench_run  # noqa: F401  (imports the whole harness)
from bench.baseline_app import FLOOR_ROWS, FloorView
from bench.datagen import CatalogShape, _category_nodes, generate_catalog
from bench.loadgen import Target, drive, merge, percentile, serve_constant
from bench.report import format_markdown, format_table, make_entry


def test_floor_view_returns_100_dicts_in_the_envelope():
    request = APIRequestFactory().get("/api/v1/bench/floor/")
    force_authenticate(request, user=User(username="bench", is_superuser=True))
    response = FloorView.as_view()(request)
    response.render()
    body = json.loads(response.content)
    assert response.status_code == 200
    assert body["status"] == "success" and body["data"] == FLOOR_ROWS and len(body["data"]) == 100


def test_floor_view_refuses_anonymous():
    response = FloorView.as_view()(APIRequestFactory().get("/api/v1/bench/floor/"))
    assert response.status_code == 401


def test_report_ratios_and_table():
    results = {
        "benchmarks": [
            make_entry(
                "B1",
                "GET /api/v1/skus/?size=100",
                600.0,
                "req/s",
                1000.0,
                "floor",
                target=0.5,
                ok=True,
                p50_ms=12.5,
                p99_ms=40.0,
                queries={"size_10": {"queries": 3}, "size_100": {"queries": 3}},
                app_cpu_ratio=0.25,
            ),
            make_entry(
                "B4",
                "GET /api/v1/categories/tree/",
                80.0,
                "ms p50",
                20.0,
                "floor",
                target=None,
                ok=False,
                lower_is_better=True,
                target_text="<= 3 queries",
            ),
        ],
        "machine": {"nproc": 2, "memory_gb": 1.0, "python": "3.11", "postgres": "15", "git_commit": "abc"},
        "client_ceiling": {"rps": 2000.0},
    }
    b1, b4 = results["benchmarks"]
    assert (b1["ratio"], b1["met"]) == (0.6, True)
    assert (b4["ratio"], b4["met"], b4["ok"]) == (0.25, False, False)
    table = format_table(results)
    assert "GET /api/v1/skus/?size=100" in table and "60%" in table and "3/3" in table
    assert "NO (errors)" in table and "2 cores" in table and "size=100 25%" in table
    markdown = format_markdown(results)
    assert "| B1 | `GET /api/v1/skus/?size=100` | 600 req/s |" in markdown and "| 60% |" in markdown


def test_percentiles_and_merge():
    assert percentile([], 0.5) is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 0.99) == 99.0
    merged = merge(
        [
            {"latencies_ms": [1.0, 2.0], "statuses": {"200": 2}, "errors": {}, "seconds": 1.0, "client_cpu_pct": 10.0},
            {
                "latencies_ms": [3.0, 4.0],
                "statuses": {"200": 1, "503": 1},
                "errors": {"OSError": 1},
                "seconds": 1.0,
                "client_cpu_pct": 30.0,
            },
        ]
    )
    assert merged["requests"] == 4 and merged["rps"] == 2.0 and merged["server_errors"] == 1
    assert merged["p50_ms"] == 2.0 and merged["max_ms"] == 4.0
    assert merged["statuses"] == {"200": 3, "503": 1} and merged["client_cpu_pct"] == 20.0


def test_request_template_fills_seq_and_rand():
    import random

    target = Target.from_url(
        "http://127.0.0.1:9/api/v1/x/?a=1",
        method="post",
        headers=["Authorization: Token t"],
        body_template='{"ref": "R-$seq", "sku": "SKU-$rand"}',
        rand_min=5,
        rand_max=5,
    )
    raw = target.request_bytes(7, random.Random(1))
    head, body = raw.split(b"\r\n\r\n")
    assert head.startswith(b"POST /api/v1/x/?a=1 HTTP/1.1") and b"Authorization: Token t" in head
    assert json.loads(body) == {"ref": "R-7", "sku": "SKU-5"}
    assert f"Content-Length: {len(body)}".encode() in head


def test_loadgen_against_the_constant_server():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def scenario():
        server = asyncio.ensure_future(serve_constant(port))
        await asyncio.sleep(0.2)
        try:
            target = Target.from_url(f"http://127.0.0.1:{port}/")
            return await drive(target, concurrency=4, duration=None, requests=20, warmup=0, timeout=5, seed=1)
        finally:
            server.cancel()

    report = asyncio.run(scenario())
    assert report["requests"] == 20 and report["statuses"] == {"200": 20} and report["server_errors"] == 0


def test_category_tree_shape_is_a_valid_nested_set():
    nodes = _category_nodes(CatalogShape(categories=40, skus=8, roots=2, fanout=2))
    by_id = {n["id"]: n for n in nodes}
    assert len(nodes) == 40
    for node in nodes:
        assert node["lft"] < node["rght"]
        parent = by_id.get(node["parent_id"])
        if parent:
            assert parent["lft"] < node["lft"] and node["rght"] < parent["rght"]
            assert node["level"] == parent["level"] + 1 and node["tree_id"] == parent["tree_id"]
            assert node["path"] == f"{parent['path']}/{node['name']}"


@pytest.mark.django_db
def test_generate_catalog_writes_a_consistent_catalog():
    from catalog.models import SKU, Category
    from stock.models import StockLevel

    catalog = generate_catalog(CatalogShape(categories=40, skus=12, skus_per_product=3, roots=2, fanout=2))
    assert (catalog.categories, catalog.products, catalog.skus) == (40, 4, 12)
    root = Category.all_objects.get(pk=catalog.root_category_id)
    # 2 aisles, 4 shelves and 14 of the 26 bins (13 each, the first two shelves one more).
    assert root.get_descendant_count() == 20
    assert SKU.objects.get(sku_code="SKU-12").product_id == 4
    assert StockLevel.objects.count() == 12
    report = bench_run.integrity_report(1, 2)
    assert report["oversold_levels"] == report["reserved_drift_levels"] == report["ledger_drift_levels"] == 0
    # The sequences follow the copied ids: the ORM can add rows afterwards.
    assert Category.all_objects.create(name="New", parent=None).pk == 41


def test_server_timings_read_the_json_access_log(tmp_path):
    log = tmp_path / "gunicorn.log"
    lines = [
        json.dumps({"logger": "gunicorn.access", "method": "GET", "path": "/a/", "duration_ms": ms}) for ms in (5, 1, 3)
    ]
    log.write_text("\n".join(["not json", *lines, '{"logger": "gunicorn.error"}']) + "\n")
    assert bench_run.server_timings(log) == {"GET /a/": {"requests": 3, "p50": 3.0, "p90": 5.0}}
    assert bench_run.server_timings(tmp_path / "missing.log") == {}


@pytest.mark.django_db
def test_pgbench_runs_the_statement_the_service_sends():
    """The B2 baseline is `reservation_sql()` (what the service sends); filled in as pgbench fills
    it, it places the reservation and writes its events like the service."""
    from django.db import connection

    from events.models import Event
    from stock.models import Reservation, StockLevel
    from stock.services.reservations import reservation_sql

    generate_catalog(CatalogShape(categories=40, skus=12, skus_per_product=3, roots=2, fanout=2))
    script = bench_run.pgbench_script().read_text()
    sql = " ".join((reservation_sql() % bench_run.PGBENCH_PARAMS).split())
    assert sql in script and "stock_reservation_place(" in sql
    before = StockLevel.objects.get(sku__sku_code="SKU-5").reserved
    with connection.cursor() as cursor:
        cursor.execute(sql.replace(":sku", "5").replace(":client_id", "3"))
        assert cursor.fetchone()[0] == "placed"
    assert StockLevel.objects.get(sku__sku_code="SKU-5").reserved == before + 1
    reservation = Reservation.objects.get(reference="PGBENCH-3")
    created = Event.objects.get(type="reservation.created")
    assert created.data["id"] == reservation.pk and created.data["expires_at"].endswith("Z")
    assert Event.objects.filter(type="stock.level.changed", sku_code="SKU-5").count() == 1


@pytest.mark.django_db
def test_the_depth_baseline_statement_still_runs_on_todays_schema():
    """bench.depth's literal of the f0866fd statement reserves on today's tables (their new
    columns have database defaults), so the pgbench comparison measures a working statement."""
    from django.db import connection
    from django.utils import timezone

    from bench.depth import BASELINE_STATEMENT
    from stock.models import Reservation, StockLevel
    from stock.services import stock_receive
    from tests.stock.factories import SKUFactory

    sku = SKUFactory(sku_code="DEPTH-1")
    stock_receive(sku=sku, quantity=3)
    now = timezone.now()
    lines = '[{"idx": 0, "sku_code": "DEPTH-1", "warehouse_code": null, "quantity": 2}]'
    params = {
        "lines": lines,
        "now": now,
        "expires_at": now,
        "reference": "B",
        "status": "active",
        "user_id": None,
        "n": 1,
    }
    with connection.cursor() as cursor:
        cursor.execute(BASELINE_STATEMENT, params)
        assert cursor.fetchall()[0][0] == 0
    assert StockLevel.objects.get(sku=sku).reserved == 2
    assert Reservation.objects.get(reference="B").lines.get().backordered == 0


def _report(rps_ok: float, *, seconds: float = 2.0, status: str = "201", p99: float = 50.0, errors: int = 0) -> dict:
    sent = int(rps_ok * seconds)
    statuses = {status: sent, **({"500": errors} if errors else {})}
    return {
        "requests": sent + errors,
        "seconds": seconds,
        "rps": (sent + errors) / seconds,
        "statuses": statuses,
        "errors": {},
        "server_errors": errors,
        "p50_ms": 10.0,
        "p99_ms": p99,
        "client_cpu_pct": 10.0,
        "latencies_ms": [10.0] * sent + [p99] * max(1, sent // 50),
        "sent": sent + errors,
        "server_cpu_seconds": 1.0,
        "db_cpu_seconds": 0.5,
    }


def test_versus_reports_the_median_ratio_of_interleaved_rounds_with_its_range():
    from bench.versus import loads, spread, versus_entry

    hot = loads(skus=100, hot=1, oversell=2, names={"hot"})[0]
    kept = {
        "service": [_report(400), _report(300), _report(440)],
        "peer": [_report(200), _report(200), _report(200)],
        "pgbench": [],
    }
    entry = versus_entry(hot, kept, oversold=0)
    assert entry["ratio_rounds"] == {"median": 2.0, "min": 1.5, "max": 2.2, "rounds": [2.0, 1.5, 2.2]}
    assert entry["met"] is True and entry["ok"] is True and entry["server_errors"] == 0
    assert "2.00x [1.50-2.20]" in format_table({"benchmarks": [entry], "peer": {"served": True}})
    # A 5xx, an oversold level or a p99 over 300 ms and the target is not met, whatever the ratio.
    assert versus_entry(hot, {**kept, "service": [_report(400, errors=1)] * 3}, oversold=0)["met"] is False
    assert versus_entry(hot, kept, oversold=1)["met"] is False
    assert versus_entry(hot, {**kept, "service": [_report(400, p99=301.0)] * 3}, oversold=0)["met"] is False
    assert spread([1.0, None]) is None and spread([]) is None


def test_the_bench_serves_gunicorn_conf_as_shipped(tmp_path):
    from bench.databases import server_environment
    from bench.processes import server_command

    command = server_command(8123, log_path=tmp_path / "g.log", server="gunicorn")
    assert "--max-requests" not in command and "--workers" not in command and "--threads" not in command
    assert command[command.index("--bind") + 1] == "127.0.0.1:8123"
    env = server_environment("db", redis=False)
    assert not any(key.startswith("GUNICORN_") for key in env) and "LOG_LEVEL" not in env
