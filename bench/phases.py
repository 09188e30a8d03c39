"""The phases B1-B4 and the comparisons with the peer: each figure against its baseline, same run."""

from __future__ import annotations

import csv
import time
from pathlib import Path

from bench.config import (
    IMPORT_DB_NAME,
    WORK,
    Plan,
    log,
)
from bench.databases import database_url
from bench.inprocess import has_command, integrity_report, setup_django, tree_floor_ms
from bench.processes import Server, loadgen, manage, merged, merged_measured
from bench.report import make_entry
from bench.versus import RESERVE_PATH


def cpu_ratio(floor: dict | None, endpoint: dict | None) -> float | None:
    """Floor CPU / endpoint CPU per request, both in-process: the throughput ratio the
    application's own CPU allows, whatever else the machine is doing."""
    try:
        return round(floor["size_100"]["app_cpu_ms"] / endpoint["size_100"]["app_cpu_ms"], 3)
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def run_b1(results: dict, service: Server, plan: Plan, paths: dict[str, str], queries: dict) -> None:
    """The lists and the bare DRF floor over HTTP, rounds taking turns (the list against the peer: bench.versus)."""
    base, token = service.base, service.token
    bench_entries = results["benchmarks"]
    rounds: dict[str, list[dict]] = {"floor": [], "skus": [], "products": []}
    for _ in range(plan.rounds):
        for name in rounds:
            rounds[name].append(
                loadgen(
                    base + paths[name],
                    token=token,
                    concurrency=8,
                    seconds=plan.seconds,
                    warmup=plan.warmup,
                    raw=True,
                    keepalive=True,
                )
            )
    runs = {name: merged(reports) for name, reports in rounds.items()}
    floor = runs["floor"]
    results["details"]["floor"] = floor
    log(f"B1 floor: {floor['rps']} req/s p50 {floor['p50_ms']} ms (client CPU {floor['client_cpu_pct']}%)")
    for name in ("skus", "products"):
        run_ = runs[name]
        log(f"B1 {name}: {run_['rps']} req/s p50 {run_['p50_ms']} ms {run_['statuses']}")
        bench_entries.append(
            make_entry(
                "B1",
                f"GET {paths[name]}",
                run_["rps"],
                "req/s",
                floor["rps"],
                "bare DRF endpoint (100 dicts)",
                target=0.5,
                p50_ms=run_["p50_ms"],
                p99_ms=run_["p99_ms"],
                baseline_p50_ms=floor["p50_ms"],
                baseline_p99_ms=floor["p99_ms"],
                queries=queries.get(name),
                statuses=run_["statuses"],
                ok=run_["server_errors"] == 0 and set(run_["statuses"]) == {"200"},
                app_cpu_ratio=cpu_ratio(queries.get("floor"), queries.get(name)),
            )
        )


def run_b4(
    results: dict, service: Server, env: dict[str, str], plan: Plan, paths: dict[str, str], queries: dict
) -> None:
    """The category tree over HTTP against one SELECT nested and encoded in plain Python."""
    from django.db import connections

    base, token = service.base, service.token
    bench_entries = results["benchmarks"]
    tree = loadgen(base + paths["tree"], token=token, concurrency=2, requests=plan.tree_requests, keepalive=True)
    setup_django(env)
    floor_ms = tree_floor_ms()
    connections.close_all()
    log(f"B4 tree: p50 {tree['p50_ms']} ms (floor {floor_ms} ms), {queries['tree']['size_100']['queries']} queries")
    tree_queries = queries["tree"]["size_100"]["queries"]
    bench_entries.append(
        make_entry(
            "B4",
            f"GET {paths['tree']}",
            tree["p50_ms"],
            "ms p50",
            floor_ms,
            "one SELECT + nest + json.dumps in Python",
            target=None,
            lower_is_better=True,
            p50_ms=tree["p50_ms"],
            p99_ms=tree["p99_ms"],
            queries=queries["tree"],
            statuses=tree["statuses"],
            ok=tree_queries <= 3 and set(tree["statuses"]) == {"200"},
            target_text="<= 3 queries",
        )
    )


def run_b2(
    results: dict,
    service: Server,
    runs: dict[str, dict[str, list[dict]]],
    plan: Plan,
    *,
    oversell: int,
    hot: int,
    env: dict[str, str],
) -> int:
    """Reservations over HTTP (hot SKU, random SKUs: the rounds of bench.versus) against pgbench in
    the same rounds, then a sell-out race and the integrity check. Returns the oversold levels."""
    from django.db import connections

    race = loadgen(
        service.base + RESERVE_PATH,
        token=service.token,
        concurrency=32,
        requests=plan.oversell_requests,
        method="POST",
        keepalive=True,
        body_template=f'{{"reference": "B2-RACE-$seq", "lines": [{{"sku_code": "SKU-{oversell}", "quantity": 1}}]}}',
    )
    log(f"B2 sell-out race on SKU-{oversell}: {race['statuses']}")
    setup_django(env)
    integrity = integrity_report(hot, oversell)
    connections.close_all()
    check = None
    if has_command("check_integrity"):
        done = manage(env, "check_integrity")
        check = {"exit_code": done.returncode, "output": (done.stdout + done.stderr)[-2000:]}
    sold_out_ok = (
        race["statuses"].get("201", 0) == integrity["oversell_sku"]["on_hand"]
        and integrity["oversell_sku"]["lines"] <= integrity["oversell_sku"]["on_hand"]
    )
    clean = (
        integrity["oversold_levels"] == 0
        and integrity["reserved_drift_levels"] == 0
        and integrity["ledger_drift_levels"] == 0
        and (check is None or check["exit_code"] == 0)
    )
    results["details"]["b2"] = {"race": race, "integrity": integrity, "check_integrity": check}
    for label, kept in runs.items():
        if not kept["pgbench"]:
            continue
        http, pg = merged_measured(kept["service"]), merged(kept["pgbench"])
        rate = round(http["statuses"].get("201", 0) / http["seconds"], 1) if http["seconds"] else 0.0
        log(
            f"B2 {label}: {rate} reservations/s {http['statuses']} ({http['server_cpu_ms_per_request']} ms CPU) "
            f"vs pgbench {pg['rps']} tps"
        )
        results["details"][f"b2_{label}"] = {"http": http, "pgbench": pg}
        errors = http["server_errors"] + race["server_errors"] + sum(http["errors"].values())
        results["benchmarks"].append(
            make_entry(
                "B2",
                f"POST reservation, 32 clients, {label} SKU{'s' if label == 'random' else ''}",
                rate,
                "reservations/s",
                pg["rps"],
                "pgbench: the reservation's SQL, 32 clients",
                target=0.35 if label == "hot" else None,
                p50_ms=http["p50_ms"],
                p99_ms=http["p99_ms"],
                baseline_p50_ms=pg["p50_ms"],
                baseline_p99_ms=pg["p99_ms"],
                statuses=http["statuses"],
                ok=errors == 0 and clean and sold_out_ok,
                server_errors=errors,
                queries=results["details"]["queries"].get("reserve"),
                oversell=integrity["oversold_levels"],
                sold_out_race=race["statuses"],
            )
        )
    return integrity["oversold_levels"]


def run_b3(results: dict, env: dict[str, str], catalog, plan: Plan) -> None:
    """import_catalog of the exported catalog into an empty database, against COPY of the same rows."""
    from django.db import connections

    setup_django(env)
    if not (has_command("import_catalog") and has_command("export_catalog")):
        log("B3 skipped: import_catalog/export_catalog are not there yet")
        results["details"]["b3"] = {"skipped": "import_catalog/export_catalog missing"}
        return
    connections.close_all()
    export_path = WORK / "catalog_export.csv"
    t0 = time.perf_counter()
    done = manage(env, "export_catalog", "--format", "csv", str(export_path))
    export_seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"export_catalog failed: {done.stderr[-2000:]}")
    if plan.import_rows:
        # --quick: the first rows of the same export (a valid file: every row names its category path).
        subset = WORK / "catalog_export_quick.csv"
        with (
            export_path.open(encoding="utf-8", newline="") as src,
            subset.open("w", encoding="utf-8", newline="") as dst,
        ):
            writer = csv.writer(dst)
            for number, row in enumerate(csv.reader(src)):
                if number > plan.import_rows:
                    break
                writer.writerow(row)
        export_path = subset
    with export_path.open(encoding="utf-8", newline="") as handle:
        rows = sum(1 for _ in csv.reader(handle)) - 1
    import_env = {**env, "DATABASE_URL": database_url(IMPORT_DB_NAME)}
    t0 = time.perf_counter()
    done = manage(import_env, "import_catalog", str(export_path))
    import_seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"import_catalog failed: {(done.stdout + done.stderr)[-2000:]}")
    copy_seconds = copy_baseline(export_path)
    import_rate = round(rows / import_seconds, 1)
    copy_rate = round(rows / copy_seconds, 1)
    log(f"B3 import: {rows} rows in {import_seconds:.1f} s ({import_rate} rows/s) vs COPY {copy_seconds:.2f} s")
    results["details"]["b3"] = {
        "rows": rows,
        "export_seconds": round(export_seconds, 2),
        "import_seconds": round(import_seconds, 2),
        "copy_seconds": round(copy_seconds, 3),
        "import_output": (done.stdout + done.stderr)[-1000:],
    }
    results["benchmarks"].append(
        make_entry(
            "B3",
            f"manage.py import_catalog, {rows} rows",
            import_rate,
            "rows/s",
            copy_rate,
            "COPY of the same CSV into a bare table",
            target=0.1,
            ok=True,
            seconds=round(import_seconds, 2),
            baseline_seconds=round(copy_seconds, 3),
        )
    )


def copy_baseline(csv_path: Path) -> float:
    """Seconds to COPY the file's rows into a bare table of text columns (same database server)."""
    import psycopg
    from psycopg import sql

    with csv_path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    columns = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(f"c{i}")) for i in range(len(header)))
    with psycopg.connect(database_url(IMPORT_DB_NAME), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_copy_baseline")
        conn.execute(sql.SQL("CREATE TABLE bench_copy_baseline ({})").format(columns))
        t0 = time.perf_counter()
        with conn.cursor() as cursor, csv_path.open("rb") as data:
            with cursor.copy("COPY bench_copy_baseline FROM STDIN (FORMAT csv, HEADER true)") as copy:
                while chunk := data.read(1 << 20):
                    copy.write(chunk)
        seconds = time.perf_counter() - t0
        conn.execute("DROP TABLE bench_copy_baseline")
    return seconds
