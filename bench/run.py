"""`make bench`: the Speed benchmarks B1-B4, each against a baseline measured in the same run,
and the hot endpoints side by side with the seed's stack (../shared/peer).

    python -m bench.run [--quick] [--only B1,B4] [--output PATH]

1. Starts the peer (../shared/peer/serve.sh; skipped with a printed line when absent).
2. (Re)creates the PostgreSQL database `inventory_bench` (and `inventory_bench_import`
   for B3), migrates, and writes 10k categories and 100k SKUs with COPY (bench.datagen).
3. Serves the project with gunicorn and gunicorn.conf.py as shipped (its workers, threads and
   worker recycling; BENCH_SERVER=granian for the other set-up), DEBUG off, access log on, the
   rate limit off (a deployment's number), on a free port of 127.0.0.1, settings `bench.settings`
   (the product plus the floor route).
4. Drives both over HTTP from a separate process (bench.loadgen, kept connections) and
   PostgreSQL with pgbench (the reservation's own statement); CPU per request from /proc.
   The list, hot and random reservations run against the peer in interleaved rounds (this
   service, the peer, pgbench; next endpoint; next round: bench.versus): each ratio is the
   median of the rounds' ratios, with their min and max.
5. Writes bench/results.json and prints the tables.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from bench.config import (
    DB_NAME,
    IMPORT_DB_NAME,
    LIST_PAGES,
    PEER_DB,
    PEER_DIR,
    RESERVE_BODY,
    RESULTS,
    ROOT,
    SERVER,
    THREADS,
    WORK,
    Plan,
    log,
)
from bench.databases import (
    recreate_database,
    redis_reachable,
    server_environment,
    vacuum_analyze,
)
from bench.inprocess import (
    count_queries,
    create_api_user,
    integrity_report,
    setup_django,
)
from bench.machine import machine_info
from bench.peer import start_peer, wait_for_peer
from bench.pgbench import PGBENCH_PARAMS, pgbench_script
from bench.phases import run_b1, run_b2, run_b3, run_b4
from bench.processes import (
    Server,
    client_ceiling,
    gunicorn,
    measured,
    merged_measured,
    server_timings,
    stop,
)
from bench.report import format_markdown, format_table
from bench.versus import loads, run_rounds, versus_entry

# The harness's parts live in the modules above; bench.events, bench.depth, bench.servers and
# tests/bench import these names from here.
__all__ = [
    "DB_NAME",
    "LIST_PAGES",
    "PGBENCH_PARAMS",
    "RESERVE_BODY",
    "ROOT",
    "WORK",
    "Server",
    "create_api_user",
    "gunicorn",
    "integrity_report",
    "log",
    "main",
    "measured",
    "merged_measured",
    "pgbench_script",
    "recreate_database",
    "redis_reachable",
    "run",
    "server_environment",
    "server_timings",
    "setup_django",
]


def run(args: argparse.Namespace) -> dict:
    plan = Plan.for_mode(args.quick)
    only = {b.strip().upper() for b in args.only.split(",")} if args.only else {"B1", "B2", "B3", "B4"}
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.time()
    workers = 2 * (os.cpu_count() or 1)
    redis = redis_reachable()
    env = server_environment(DB_NAME, redis=redis)
    info = machine_info()
    log(f"machine: {info['nproc']} cores, load {info['loadavg_at_start']}, commit {str(info['git_commit'])[:10]}")

    # The peer makes its venv and seeds its database on first use: started now, beside the
    # project's own data generation, and awaited when the comparison starts.
    peer_proc = start_peer(workers, WORK / "peer.log") if only & {"B1", "B2"} else None
    try:
        return _run(args, plan, only, started, workers, redis, env, info, peer_proc)
    finally:
        stop(peer_proc)


def _run(
    args,
    plan: Plan,
    only: set[str],
    started: float,
    workers: int,
    redis: bool,
    env: dict[str, str],
    info: dict,
    peer_proc,
) -> dict:
    log(f"recreating database {DB_NAME} and migrating")
    recreate_database(DB_NAME)
    setup_django(env)
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0, interactive=False)
    connections.close_all()
    if "B3" in only:
        recreate_database(IMPORT_DB_NAME, template=DB_NAME)  # migrated and empty

    from bench.datagen import (
        HOT_SKU_ID,
        OVERSELL_SKU_ID,
        CatalogShape,
        generate_catalog,
    )

    t0 = time.perf_counter()
    catalog = generate_catalog(CatalogShape())
    gen_seconds = time.perf_counter() - t0
    log(
        f"generated {catalog.categories} categories, {catalog.products} products, {catalog.skus} SKUs "
        f"in {gen_seconds:.1f} s"
    )
    vacuum_analyze(DB_NAME)
    token = create_api_user()
    root = catalog.root_category_id
    paths = {
        "floor": "/api/v1/bench/floor/",
        "skus": "/api/v1/skus/?size=100",
        "products": f"/api/v1/products/?category_tree={root}&size=100",
        "tree": "/api/v1/categories/tree/",
    }
    queries = {}
    for name, path in paths.items():
        if name == "tree" and "B4" not in only or name != "tree" and "B1" not in only:
            continue
        small = path.replace("size=100", "size=10")
        queries[name] = {"size_100": count_queries(path, token)}
        if small != path:
            queries[name]["size_10"] = count_queries(small, token)
    if "B2" in only:
        queries["reserve"] = {
            "request": count_queries(
                "/api/v1/stock/reservations/", token, body=RESERVE_BODY % ("PROBE", f"SKU-{HOT_SKU_ID}")
            )
        }
    connections.close_all()

    results = {
        "quick": plan.quick,
        "machine": info,
        "dataset": {
            "categories": catalog.categories,
            "products": catalog.products,
            "skus": catalog.skus,
            "generation_seconds": round(gen_seconds, 1),
        },
        "server": {
            "workers": "gunicorn.conf.py",
            "threads": THREADS or "gunicorn.conf.py",
            "server": SERVER,
            "max_requests": "gunicorn.conf.py",
            "redis_cache": redis,
            "gunicorn_conf": "gunicorn.conf.py" if (ROOT / "gunicorn.conf.py").exists() else None,
        },
        "benchmarks": [],
        "details": {"queries": queries},
    }

    log("client ceiling (load generator against a do-nothing server)")
    results["client_ceiling"] = client_ceiling(plan)

    with gunicorn(env, log_path=WORK / "gunicorn.log") as (base, pgid):
        log(f"{SERVER} as gunicorn.conf.py ships it ({THREADS or 'its'} threads, its workers and recycling) at {base}")
        service = Server("service", base, token, pgid)
        peer = wait_for_peer(peer_proc)
        results["peer"] = {"served": peer is not None, "dir": str(PEER_DIR), "database": PEER_DB, "workers": workers}
        if peer is not None:
            log(f"peer (FastAPI + SQLAlchemy async + uvicorn, {workers} workers) at {peer.base}")
        if "B1" in only:
            run_b1(results, service, plan, paths, queries)
        if "B4" in only:
            run_b4(results, service, env, plan, paths, queries)
        # Both stacks up at once, driven back to back round after round (bench.versus).
        endpoints = loads(
            skus=catalog.skus,
            hot=HOT_SKU_ID,
            oversell=OVERSELL_SKU_ID,
            names=({"list"} if "B1" in only else set()) | ({"hot", "random"} if "B2" in only else set()),
        )
        runs = run_rounds(service, peer, plan, endpoints, warehouse_id=catalog.warehouse_id) if endpoints else {}
        oversold = None
        if "B2" in only:
            oversold = run_b2(results, service, runs, plan, hot=HOT_SKU_ID, oversell=OVERSELL_SKU_ID, env=env)
        for load in endpoints:
            results["benchmarks"].append(
                versus_entry(load, runs[load.name], oversold=oversold if load.method == "POST" else None)
            )
        results["details"]["versus"] = {
            name: {stack: [_without_latencies(r) for r in reports] for stack, reports in kept.items()}
            for name, kept in runs.items()
        }

    results["details"]["server_ms"] = server_timings(WORK / "gunicorn.log")
    if "B3" in only:
        run_b3(results, env, catalog, plan)
    results["elapsed_seconds"] = round(time.time() - started, 1)
    return results


def _without_latencies(report: dict) -> dict:
    return {key: value for key, value in report.items() if key != "latencies_ms"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter phases (make bench QUICK=1)")
    parser.add_argument("--only", help="comma-separated subset, e.g. B1,B4")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)
    results = run(args)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    (WORK / "results.md").write_text(format_markdown(results) + "\n")
    print()
    print(format_table(results))
    print(f"\nwritten to {args.output} in {results['elapsed_seconds']} s")
    return 0 if all(entry["ok"] for entry in results["benchmarks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
