"""`make bench` (after bench.run and bench.events): what the quantity states cost a reservation.

    python -m bench.depth [--quick] [--output bench/results-depth.json]

In one run, on one database (`inventory_bench_depth`, 20k SKUs written by bench.datagen):
1. HTTP: `POST /api/v1/stock/reservations/` through the served app (bench.run's gunicorn and
   load generator), rounds taking turns between SKUs whose levels have every state zero
   ("plain", as before the states) and SKUs whose levels have damaged, quality control and
   safety stock set ("states"). The cost is the server's CPU per request and the p50.
2. pgbench: the one reservation statement as of commit f0866fd (before the states, kept
   below as a literal) against today's `reservation_place` statement, on the "states" SKUs.
Prints the ratios (states / plain, now / before; the target is at most 1.10) and writes
bench/results-depth.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.run import (
    PGBENCH_PARAMS,
    RESERVE_BODY,
    ROOT,
    WORK,
    Server,
    create_api_user,
    gunicorn,
    log,
    measured,
    merged_measured,
    recreate_database,
    server_environment,
    setup_django,
)

DB_NAME = os.environ.get("BENCH_DEPTH_DB", "inventory_bench_depth")
RESULTS = ROOT / "bench" / "results-depth.json"
TARGET = 1.10
PLAIN = (1_001, 10_000)  # SKU ids whose levels keep every state at zero
STATES = (10_001, 19_000)  # SKU ids whose levels get damaged = 2, quality_control = 3, safety_stock = 5
PATH = "/api/v1/stock/reservations/"

# `reservation_place`'s statement as of commit f0866fd (the schema commit, before the states
# were read): `placed` tests `on_hand - reserved`, `target` takes the default warehouse. Its
# lines come as today's statement takes them (one JSON record set instead of the arrays of
# then, a change made for prepared statements), so that the two differ by the states alone.
BASELINE_STATEMENT = (
    "WITH request AS (SELECT * FROM json_to_recordset(%(lines)s::json) AS r(idx int, sku_code text, warehouse_code"
    " text, quantity bigint)),\n"
    "target AS (SELECT r.idx, r.quantity, s.id AS sku_id, s.sku_code, w.id AS warehouse_id, w.code AS warehouse FROM"
    " request r JOIN catalog_sku s ON lower(s.sku_code) = lower(r.sku_code) AND NOT s.is_deleted JOIN stock_warehouse w"
    " ON NOT w.is_deleted AND (CASE WHEN r.warehouse_code IS NULL THEN w.is_default ELSE w.code ="
    " upper(r.warehouse_code) END)),\n"
    "locked AS (SELECT l.id, t.idx, t.quantity FROM stock_stocklevel l JOIN target t ON l.sku_id = t.sku_id AND"
    " l.warehouse_id = t.warehouse_id ORDER BY l.sku_id, l.warehouse_id FOR UPDATE OF l),\n"
    "placed AS (UPDATE stock_stocklevel l SET reserved = l.reserved + k.quantity, version = l.version + 1, updated_at ="
    " %(now)s FROM locked k WHERE l.id = k.id AND l.on_hand::bigint - l.reserved >= k.quantity RETURNING k.idx, l.id AS"
    " level_id, l.sku_id, l.warehouse_id, k.quantity, l.on_hand, l.reserved, l.version),\n"
    "reservation AS (INSERT INTO stock_reservation (created_at, updated_at, reference, status, expires_at,"
    " created_by_id) SELECT %(now)s, %(now)s, %(reference)s, %(status)s, %(expires_at)s, %(user_id)s WHERE (SELECT"
    " count(*) FROM placed) = %(n)s RETURNING id),\n"
    "lines AS (INSERT INTO stock_reservationline (reservation_id, sku_id, warehouse_id, quantity) SELECT"
    " reservation.id, p.sku_id, p.warehouse_id, p.quantity FROM reservation, placed p ORDER BY p.idx RETURNING id,"
    " sku_id, warehouse_id, quantity)\n"
    "SELECT c.ok, reservation.id, t.idx, lines.id, t.sku_id, t.sku_code, t.warehouse_id, t.warehouse, t.quantity\n"
    "FROM (SELECT CASE WHEN count(*) = %(n)s THEN 0 ELSE ('INCOMPLETE ' || count(*))::int END AS ok FROM placed) c LEFT"
    " JOIN reservation ON true LEFT JOIN lines ON true LEFT JOIN target t ON t.sku_id = lines.sku_id AND t.warehouse_id"
    " = lines.warehouse_id ORDER BY t.idx"
)


def _pgbench(script: Path, *, clients: int, seconds: int, sku_range: tuple[int, int]) -> dict:
    exe = shutil.which("pgbench") or "/usr/bin/pgbench"
    cmd = [
        exe,
        "-n",
        "-c",
        str(clients),
        "-j",
        str(min(clients, os.cpu_count() or 2)),
        "-T",
        str(seconds),
        "-f",
        str(script),
        "-D",
        f"lo={sku_range[0]}",
        "-D",
        f"hi={sku_range[1]}",
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        DB_NAME,
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    failed = re.search(r"number of failed transactions: (\d+)", out)
    return {
        "tps": float(re.search(r"tps = ([\d.]+)", out).group(1)),
        "latency_ms": float(re.search(r"latency average = ([\d.]+) ms", out).group(1)),
        "failed": int(failed.group(1)) if failed else 0,
    }


def _script(name: str, statement: str) -> Path:
    path = WORK / f"pgbench_depth_{name}.sql"
    sql = statement % PGBENCH_PARAMS
    path.write_text(
        f"-- bench.depth: the {name} reservation statement.\n"
        "\\set sku random(:lo, :hi)\n" + " ".join(sql.split()) + ";\n"
    )
    return path


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 3) if numerator and denominator else None


def run(args: argparse.Namespace) -> dict:
    rounds, seconds = (2, 4) if args.quick else (4, 10)
    WORK.mkdir(parents=True, exist_ok=True)
    env = server_environment(DB_NAME, redis=False)
    log(f"depth: recreating database {DB_NAME} and migrating")
    recreate_database(DB_NAME)
    setup_django(env)
    from django.core.management import call_command
    from django.db import connection, connections

    call_command("migrate", verbosity=0, interactive=False)
    from bench.datagen import CatalogShape, generate_catalog

    generate_catalog(CatalogShape(categories=1_000, skus=20_000))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE stock_stocklevel SET on_hand = on_hand + 100000, damaged = 2, quality_control = 3,"
            " safety_stock = 5 WHERE sku_id BETWEEN %s AND %s",
            list(STATES),
        )
        cursor.execute(
            "UPDATE stock_stocklevel SET on_hand = on_hand + 100000 WHERE sku_id BETWEEN %s AND %s", list(PLAIN)
        )
        cursor.execute("ANALYZE stock_stocklevel")
    token = create_api_user()
    from stock.services.reservations import reservation_sql

    current_statement = reservation_sql()
    connections.close_all()

    results: dict = {"quick": args.quick, "rounds": rounds, "seconds": seconds, "target": TARGET}
    http: dict[str, list[dict]] = {"plain": [], "states": []}
    with gunicorn(env, log_path=WORK / "gunicorn-depth.log") as (base, pgid):
        service = Server("service", base, token, pgid)
        for i in range(rounds):
            # Taking turns, and the order swapped every round: drift of the machine hits both.
            for label in ("plain", "states") if i % 2 == 0 else ("states", "plain"):
                body = RESERVE_BODY % (f"DEPTH-{label.upper()}-{i}", "SKU-$rand")
                span = PLAIN if label == "plain" else STATES
                http[label].append(
                    measured(
                        service,
                        PATH,
                        concurrency=16,
                        seconds=seconds,
                        warmup=1.0,
                        method="POST",
                        body_template=body,
                        rand=span,
                    )
                )
    summary = {}
    for label, reports in http.items():
        merged = merged_measured(reports)
        summary[label] = {
            key: merged.get(key) for key in ("rps", "p50_ms", "p99_ms", "statuses", "server_cpu_ms_per_request")
        }
        log(
            f"depth HTTP {label}: {merged['rps']} req/s p50 {merged['p50_ms']} ms "
            f"{merged['server_cpu_ms_per_request']} ms CPU {merged['statuses']}"
        )
    results["http"] = summary
    results["http"]["cpu_ratio"] = _ratio(
        summary["states"]["server_cpu_ms_per_request"], summary["plain"]["server_cpu_ms_per_request"]
    )
    results["http"]["p50_ratio"] = _ratio(summary["states"]["p50_ms"], summary["plain"]["p50_ms"])

    if shutil.which("pgbench") or Path("/usr/bin/pgbench").exists():
        scripts = {"before": _script("before", BASELINE_STATEMENT), "now": _script("now", current_statement)}
        pg: dict[str, list[dict]] = {"before": [], "now": []}
        for i in range(rounds):
            for label in ("before", "now") if i % 2 == 0 else ("now", "before"):
                pg[label].append(_pgbench(scripts[label], clients=16, seconds=seconds, sku_range=STATES))
        statement = {
            label: {
                "tps": round(statistics.mean(r["tps"] for r in runs), 1),
                "latency_ms": round(statistics.mean(r["latency_ms"] for r in runs), 3),
                "failed": sum(r["failed"] for r in runs),
            }
            for label, runs in pg.items()
        }
        statement["latency_ratio"] = _ratio(statement["now"]["latency_ms"], statement["before"]["latency_ms"])
        statement["tps_ratio"] = _ratio(statement["now"]["tps"], statement["before"]["tps"])
        # Each round's two runs back to back: their ratio feels less of the box's drift over
        # the whole run (other work starting or stopping) than the ratio of the means does.
        statement["round_latency_ratios"] = [
            _ratio(now["latency_ms"], before["latency_ms"]) for before, now in zip(pg["before"], pg["now"], strict=True)
        ]
        statement["median_round_latency_ratio"] = round(statistics.median(statement["round_latency_ratios"]), 3)
        results["statement"] = statement
        log(
            f"depth statement: before {statement['before']['tps']} tps, now {statement['now']['tps']} tps "
            f"(latency ratio {statement['latency_ratio']}; by round {statement['round_latency_ratios']})"
        )
    else:
        results["statement"] = None
        log("depth statement: pgbench not found, skipped")
    cost = [
        results["http"]["cpu_ratio"],
        results["http"]["p50_ratio"],
        results["statement"] and results["statement"]["latency_ratio"],
    ]
    results["ok"] = all(ratio is not None and ratio <= TARGET for ratio in cost if ratio is not None)
    log(
        f"depth: states / plain CPU {results['http']['cpu_ratio']}, p50 {results['http']['p50_ratio']}; "
        f"statement now / before {cost[2]} (target <= {TARGET}): {'OK' if results['ok'] else 'OVER'}"
    )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of 4 s instead of 4 of 10 s.")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.time()
    results = run(args)
    results["elapsed_seconds"] = round(time.time() - started, 1)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    log(f"depth: wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
