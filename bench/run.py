"""`make bench`: the Speed benchmarks B1-B4, each against a baseline measured in the same run,
and the hot endpoints side by side with the seed's stack (../shared/peer).

    python -m bench.run [--quick] [--only B1,B4] [--output PATH]

1. Starts the peer (../shared/peer/serve.sh; skipped with a printed line when absent).
2. (Re)creates the PostgreSQL database `inventory_bench` (and `inventory_bench_import`
   for B3), migrates, and writes 10k categories and 100k SKUs with COPY (bench.datagen).
3. Serves the project with gunicorn (gunicorn.conf.py, 2 workers per core x BENCH_THREADS
   threads; BENCH_SERVER=granian for the other set-up), DEBUG off, access log on, rate limit
   off, on a free port of 127.0.0.1, settings `bench.settings` (the product plus the floor route).
4. Drives both over HTTP from a separate process (bench.loadgen, kept connections) and
   PostgreSQL with pgbench (the reservation's own statement); CPU per request from /proc.
5. Writes bench/results.json and prints the tables.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.report import format_markdown, format_table, make_entry

ROOT = Path(__file__).absolute().parent.parent
WORK = ROOT / "bench" / ".work"
RESULTS = ROOT / "bench" / "results.json"
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DB", "inventory_bench")
IMPORT_DB_NAME = f"{DB_NAME}_import"
SETTINGS = "bench.settings"
REDIS_BENCH_URL = "redis://127.0.0.1:6379/15"
# The application server: gunicorn with the project's gunicorn.conf.py (production), or granian.
SERVER = os.environ.get("BENCH_SERVER", "gunicorn")
# Threads per worker (gthread: connections kept alive, a worker overlaps its requests' waits).
THREADS = os.environ.get("BENCH_THREADS") or os.environ.get("GUNICORN_THREADS") or "4"
RESERVE_BODY = '{"reference": "B2-%s-$seq", "lines": [{"sku_code": "%s", "quantity": 1}]}'
# The seed's stack (FastAPI + SQLAlchemy async + asyncpg + uvicorn), served beside the project
# when the shared folder is there (../shared/peer from the repository's root).
PEER_DIR = Path(os.environ.get("BENCH_PEER_DIR", ROOT.parent / "shared" / "peer"))
PEER_DB = os.environ.get("BENCH_PEER_DB", "perf_peer")
PEER_HOT_SKU = "HOT-1"
PEER_SKUS = 100_000  # SKU-000001 .. SKU-100000 (serve.sh's default PEER_SKUS)
LIST_PAGES = (1, 100)  # `page=random`: uniformly one of the first 100 pages of 100 rows


@dataclass(frozen=True)
class Plan:
    """How long each phase runs: `rounds` x `seconds`, the figure and its baseline taking turns,
    so that a change of load on a shared machine hits both alike."""

    quick: bool
    seconds: float
    rounds: int
    warmup: float
    tree_requests: int
    oversell_requests: int
    ceiling_seconds: float
    import_rows: int | None

    @classmethod
    def for_mode(cls, quick: bool) -> "Plan":
        if quick:
            return cls(quick=True, seconds=2, rounds=2, warmup=0.5, tree_requests=8, oversell_requests=200, ceiling_seconds=1,
                       import_rows=20_000)
        return cls(quick=False, seconds=5, rounds=3, warmup=1, tree_requests=40, oversell_requests=400, ceiling_seconds=4,
                   import_rows=None)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- databases -----------------------------------------------------------------------

def admin_connection():
    import psycopg

    return psycopg.connect(f"{PG_ADMIN_URL}/postgres", autocommit=True)


def recreate_database(name: str, *, template: str | None = None) -> None:
    from psycopg import sql

    with admin_connection() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if template:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def vacuum_analyze(name: str) -> None:
    """What autovacuum does to a live database, now: statistics for the planner and the
    visibility map that lets `COUNT(*)` of the list read an index only (a seq scan of every
    SKU row before, ~2x the time). The peer's seed vacuums its tables the same way."""
    import psycopg

    with psycopg.connect(database_url(name), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def database_url(name: str) -> str:
    return f"{PG_ADMIN_URL}/{name}"


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def server_environment(db_name: str, *, redis: bool) -> dict[str, str]:
    """The environment of the server and of manage.py: production-like, rate limit off."""
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": database_url(db_name),
        "DEBUG": "false",
        "SECRET_KEY": env.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        "RATE_LIMIT_REQUESTS_PER_MINUTE": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": env.get("BENCH_LOG_LEVEL", "WARNING"),
        "GUNICORN_THREADS": THREADS,
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("REDIS_URL", None)
    if redis:
        env["REDIS_URL"] = REDIS_BENCH_URL
    return env


# --- the server ------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int, log_path: Path, server: str | None = None):
    """Serve the project on a free port (gunicorn, or `server="granian"`); yield its base URL and
    process group; stop it afterwards."""
    port = free_port()
    # The product's gunicorn.conf.py (picked up from the working directory) applies, as in
    # production; only the address, the worker count and the log file are set here, and
    # worker recycling is off: a worker restarting mid-phase (imports, a new connection)
    # would cost the phase with the most requests, the baseline, the most.
    cmd = [sys.executable, "-m", "gunicorn", "inventory_site.wsgi:application",
           "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--max-requests", "0",
           "--error-logfile", str(log_path)]
    if (server or SERVER) == "granian":  # the alternative set-up compared in the README (BENCH_SERVER=granian)
        cmd = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--blocking-threads", env.get("GUNICORN_THREADS", "1"), "--no-ws",
               "--log-level", "warning", "--access-log", "--access-log-fmt",
               '{"logger": "granian.access", "method": "%(method)s", "path": "%(path)s", "status": %(status)d, '
               '"duration_ms": %(dt_ms).1f}',
               "inventory_site.wsgi:application"]
    log_path.write_bytes(b"")  # this run's log only; both gunicorn and we then append
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({proc.returncode}); see {log_path}")
            try:
                with urllib.request.urlopen(f"{base}/health/", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer /health/ in 60 s; see {log_path}")
            time.sleep(0.3)
        yield base, proc.pid
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def loadgen(url: str, *, token: str | None = None, concurrency: int, seconds: float | None = None,
            requests: int | None = None, warmup: float = 0.0, method: str = "GET",
            body_template: str | None = None, rand: tuple[int, int] | None = None, raw: bool = False,
            keepalive: bool = False, rand_width: int = 0) -> dict:
    """Run bench.loadgen in its own process and return its JSON report."""
    cmd = [sys.executable, "-m", "bench.loadgen", "--url", url, "--concurrency", str(concurrency),
           "--method", method, "--warmup", str(warmup), "--seed", str(secrets.randbelow(1 << 30))]
    if raw:
        cmd.append("--raw")
    if keepalive:
        cmd.append("--keepalive")
    if rand_width:
        cmd += ["--rand-width", str(rand_width)]
    if token:
        cmd += ["--header", f"Authorization: Token {token}"]
    if seconds:
        cmd += ["--duration", str(seconds)]
    if requests:
        cmd += ["--requests", str(requests)]
    if body_template:
        cmd += ["--body-template", body_template]
    if rand:
        cmd += ["--rand-min", str(rand[0]), "--rand-max", str(rand[1])]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def client_ceiling(plan: Plan) -> dict:
    """Requests/s of the load generator against a server that does nothing."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.loadgen", "--serve", str(port)], cwd=ROOT,
                            start_new_session=True)
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        return loadgen(f"http://127.0.0.1:{port}/", concurrency=16, seconds=plan.ceiling_seconds, warmup=0.5)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()


def process_group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process of this process group (a server and its
    workers), from /proc; 0.0 where /proc is not there."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command: state ppid pgrp session ... utime(12) stime(13) counting from state = 0.
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def database_cpu_ticks(db_name: str) -> dict[int, int]:
    """User + system CPU ticks of each live PostgreSQL backend connected to `db_name` (their
    process title is `postgres: <cluster>: <user> <db> <client> <state>`), by pid, from /proc;
    empty where /proc is not there."""
    ticks = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
            if len(title) < 5 or title[0] != "postgres:" or title[3] != db_name:
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks[int(proc.name)] = int(fields[11]) + int(fields[12])
    return ticks


def database_cpu_seconds_since(before: dict[int, int], db_name: str) -> float:
    """CPU seconds the backends of `db_name` spent since `before` (a `database_cpu_ticks`): each
    live backend's ticks less its own earlier ones (a new backend's all of them). A backend
    that ended in between is not counted: both servers keep their connections, so few do."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    now = database_cpu_ticks(db_name)
    return sum(ticks - before.get(pid, 0) for pid, ticks in now.items()) / tick


@dataclass
class Server:
    """A server under load: where it answers, the token its client sends, its process group, and
    the database its backends are connected to."""

    name: str
    base: str
    token: str
    pgid: int
    database: str = DB_NAME


def measured(server: Server, path: str, **kwargs) -> dict:
    """`loadgen` against `server`, with the CPU its processes and its database's backends spent per
    request sent (warm-up included)."""
    cpu0, db0 = process_group_cpu_seconds(server.pgid), database_cpu_ticks(server.database)
    report = loadgen(server.base + path, token=server.token, keepalive=True, raw=True, **kwargs)
    cpu = process_group_cpu_seconds(server.pgid) - cpu0
    db = database_cpu_seconds_since(db0, server.database)
    sent = report.get("sent")
    report["server_cpu_seconds"], report["db_cpu_seconds"] = round(cpu, 3), round(db, 3)
    report["server_cpu_ms_per_request"] = round(1000 * cpu / sent, 2) if sent else None
    report["db_cpu_ms_per_request"] = round(1000 * db / sent, 2) if sent else None
    return report


def merged_measured(reports: list[dict]) -> dict:
    """Rounds of `measured` as one report, CPU per request over all of them."""
    report = merged(reports)
    cpu = sum(r["server_cpu_seconds"] for r in reports)
    db = sum(r.get("db_cpu_seconds") or 0 for r in reports)
    sent = sum(r.get("sent") or 0 for r in reports)
    report["server_cpu_seconds"], report["db_cpu_seconds"] = round(cpu, 3), round(db, 3)
    report["server_cpu_ms_per_request"] = round(1000 * cpu / sent, 2) if sent else None
    report["db_cpu_ms_per_request"] = round(1000 * db / sent, 2) if sent else None
    return report


def start_peer(workers: int, log_path: Path) -> subprocess.Popen | None:
    """Start `../shared/peer/serve.sh` (it makes its venv and seeds its database on first use);
    None, with a printed line, when the shared folder is absent."""
    serve = PEER_DIR / "serve.sh"
    if not serve.exists():
        log(f"peer skipped: {serve} not found (the comparison with the seed's stack needs ../shared/peer)")
        return None
    port = free_port()
    env = {**os.environ, "PEER_WORKERS": str(workers)}
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(["bash", str(serve), str(port), PEER_DB], cwd=PEER_DIR, env=env, stdout=out,
                                stderr=out, start_new_session=True)
    proc.peer_port = port  # type: ignore[attr-defined]
    proc.peer_log = log_path  # type: ignore[attr-defined]
    return proc


def wait_for_peer(proc: subprocess.Popen | None, *, timeout: float = 600) -> Server | None:
    """The started peer once it answers /health (its token read from serve.sh's first line)."""
    if proc is None:
        return None
    base = f"http://127.0.0.1:{proc.peer_port}"
    deadline = time.monotonic() + timeout
    token = None
    while True:
        if proc.poll() is not None:
            log(f"peer skipped: serve.sh exited ({proc.returncode}); see {proc.peer_log}")
            return None
        if token is None:
            found = re.search(r"^PEER_TOKEN=(\w+)", proc.peer_log.read_text(errors="replace"), re.M)
            token = found.group(1) if found else None
        if token is not None:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                    if response.status == 200:
                        return Server("peer", base, token, proc.pid, database=PEER_DB)
            except OSError:
                pass
        if time.monotonic() > deadline:
            log(f"peer skipped: no answer on /health in {timeout:.0f} s; see {proc.peer_log}")
            return None
        time.sleep(0.5)


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# --- pgbench ---------------------------------------------------------------------------

# What pgbench puts where the service binds a parameter: one line of 1 unit of SKU-:sku.
PGBENCH_PARAMS = {
    "lines": """json_build_array(json_build_object('idx', 0, 'sku_code', 'SKU-' || :sku, 'warehouse_code', NULL,"""
             """ 'quantity', 1))::text""",
    # The statement of f0866fd (bench.depth's "before") took the lines as arrays.
    "idx": "ARRAY[0]", "codes": "ARRAY['SKU-' || :sku]", "warehouses": "ARRAY[NULL]",
    "quantities": "ARRAY[1]", "now": "now()", "expires_at": "(now() + interval '1 day')",
    "reference": "('PGBENCH-' || :client_id)", "status": "'active'", "user_id": "NULL::integer", "n": "1",
    # The events' timestamps, as the service's JSON writes them (2026-12-03T07:25:24.123Z).
    "now_text": """to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')""",
    "expires_at_text": """to_char((now() + interval '1 day') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')""",
}


def pgbench_script() -> Path:
    """The B2 baseline's script: the very statement `reservation_place` sends (stock.services.
    reservation_statement.reservation_sql: the reservation, its lines and its events), its
    parameters filled in by pgbench, one statement per transaction as the service runs it;
    written to bench/.work/pgbench_reserve.sql."""
    from stock.services.reservation_statement import reservation_sql

    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "pgbench_reserve.sql"
    sql = reservation_sql() % PGBENCH_PARAMS
    path.write_text("-- Generated by bench.run from reservation_place's statement.\n"
                    "\\set sku random(:lo, :hi)\n" + " ".join(sql.split()) + ";\n")
    return path


def pgbench(db_name: str, *, clients: int, seconds: float, sku_range: tuple[int, int], warehouse_id: int,
            label: str) -> dict:
    """B2 baseline: the reservation's statements alone, `clients` connections, on the same database.

    Returns a loadgen-shaped report (with raw latencies from pgbench's per-transaction log).
    """
    exe = shutil.which("pgbench") or "/usr/bin/pgbench"
    if not Path(exe).exists():
        raise RuntimeError("pgbench not found: install PostgreSQL's client tools (apt-get install postgresql-client)")
    prefix = WORK / f"pgbench_{label}"
    for old in WORK.glob(f"pgbench_{label}.*"):
        old.unlink()
    cmd = [exe, "-n", "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 2)),
           "-T", str(max(1, round(seconds))),
           "-f", str(pgbench_script()),
           "-D", f"lo={sku_range[0]}", "-D", f"hi={sku_range[1]}", "-D", f"wh={warehouse_id}",
           "-l", f"--log-prefix={prefix}", "-h", "127.0.0.1", "-U", "postgres", db_name]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:  # e.g. the server's max_connections reached on a shared machine
        raise RuntimeError(f"pgbench exited {out.returncode}: {(out.stdout + out.stderr)[-1500:]}")
    tps = float(re.search(r"tps = ([\d.]+)", out.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    latencies = []
    for path in WORK.glob(f"pgbench_{label}.*"):
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3:
                latencies.append(int(fields[2]) / 1000)
        path.unlink()
    n = len(latencies)
    return {"requests": n, "seconds": round(n / tps, 3) if tps else float(seconds), "rps": round(tps, 1),
            "latencies_ms": latencies, "statuses": {"ok": n}, "errors": {"failed": int(failed.group(1))} if failed else {},
            "client_cpu_pct": 0.0}


def merged(reports: list[dict]) -> dict:
    """Rounds of one phase as one report."""
    from bench.loadgen import merge

    report = merge(reports)
    report["rounds"] = len(reports)
    return report


# --- in-process measurements (Django set up against the bench database) --------------------

def setup_django(env: dict[str, str]) -> None:
    for key in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "DEBUG", "SECRET_KEY", "RATE_LIMIT_REQUESTS_PER_MINUTE",
                "ALLOWED_HOSTS", "LOG_LEVEL", "REDIS_URL"):
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
    return {"queries": len(captured), "status": response.status_code,
            "app_cpu_ms": round(statistics.median(cpu), 2), "sql": captured}


def tree_floor_ms(repeats: int = 5) -> float:
    """B4 baseline: read all categories with one raw query, nest them and encode JSON."""
    from django.db import connection

    timings = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, name, slug, path, level, parent_id FROM catalog_category "
                           "WHERE NOT is_deleted ORDER BY tree_id, lft")
            rows = cursor.fetchall()
        nodes, roots = {}, []
        for id_, name, slug, path, level, parent_id in rows:
            node = {"id": id_, "name": name, "slug": slug, "path": path, "level": level, "parent_id": parent_id,
                    "children": []}
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
        cursor.execute("SELECT coalesce(sum(quantity), 0) FROM stock_reservationline WHERE sku_id = %s",
                       [oversell_sku_id])
        oversell_lines = cursor.fetchone()[0]
        cursor.execute("SELECT on_hand, reserved FROM stock_stocklevel WHERE sku_id = %s", [hot_sku_id])
        hot_level = cursor.fetchone()
    return {"reserved_drift_levels": reserved_drift, "oversold_levels": oversold, "ledger_drift_levels": ledger_drift,
            "oversell_sku": {"on_hand": oversell_level[0], "reserved": oversell_level[1], "lines": oversell_lines},
            "hot_sku": {"on_hand": hot_level[0], "reserved": hot_level[1]}}


def manage(env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def has_command(name: str) -> bool:
    from django.core.management import get_commands

    return name in get_commands()


# --- machine ---------------------------------------------------------------------------------

def machine_info() -> dict:
    import django
    import psycopg

    mem_kb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    try:
        with admin_connection() as conn:
            pg_version = conn.execute("SHOW server_version").fetchone()[0]
    except Exception:  # informational only
        pg_version = None

    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    import gunicorn as gunicorn_pkg

    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1) if mem_kb else None,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "gunicorn": gunicorn_pkg.__version__,
        "postgres": pg_version,
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


# --- the benchmarks ------------------------------------------------------------------------------

def cpu_ratio(floor: dict | None, endpoint: dict | None) -> float | None:
    """Floor CPU / endpoint CPU per request, both in-process: the throughput ratio the
    application's own CPU allows, whatever else the machine is doing."""
    try:
        return round(floor["size_100"]["app_cpu_ms"] / endpoint["size_100"]["app_cpu_ms"], 3)
    except (KeyError, TypeError, ZeroDivisionError):
        return None


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


def _run(args, plan: Plan, only: set[str], started: float, workers: int, redis: bool, env: dict[str, str],
         info: dict, peer_proc) -> dict:
    log(f"recreating database {DB_NAME} and migrating")
    recreate_database(DB_NAME)
    setup_django(env)
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0, interactive=False)
    connections.close_all()
    if "B3" in only:
        recreate_database(IMPORT_DB_NAME, template=DB_NAME)  # migrated and empty

    from bench.datagen import HOT_SKU_ID, OVERSELL_SKU_ID, CatalogShape, generate_catalog

    t0 = time.perf_counter()
    catalog = generate_catalog(CatalogShape())
    gen_seconds = time.perf_counter() - t0
    log(f"generated {catalog.categories} categories, {catalog.products} products, {catalog.skus} SKUs "
        f"in {gen_seconds:.1f} s")
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
        queries["reserve"] = {"request": count_queries("/api/v1/stock/reservations/", token, body=RESERVE_BODY % (
            "PROBE", f"SKU-{HOT_SKU_ID}"))}
    connections.close_all()

    results = {"quick": plan.quick, "machine": info, "dataset": {
        "categories": catalog.categories, "products": catalog.products, "skus": catalog.skus,
        "generation_seconds": round(gen_seconds, 1)}, "server": {
        "workers": workers, "threads": int(THREADS), "server": SERVER, "max_requests": 0, "redis_cache": redis,
        "gunicorn_conf": "gunicorn.conf.py" if (ROOT / "gunicorn.conf.py").exists() else None},
        "benchmarks": [], "details": {"queries": queries}}
    bench_entries = results["benchmarks"]

    log("client ceiling (load generator against a do-nothing server)")
    results["client_ceiling"] = client_ceiling(plan)

    with gunicorn(env, workers=workers, log_path=WORK / "gunicorn.log") as (base, pgid):
        log(f"{SERVER}: {workers} workers x {THREADS} threads at {base}")
        service = Server("service", base, token, pgid)
        peer = wait_for_peer(peer_proc)
        results["peer"] = {"served": peer is not None, "dir": str(PEER_DIR), "database": PEER_DB, "workers": workers}
        if peer is not None:
            log(f"peer (FastAPI + SQLAlchemy async + uvicorn, {workers} workers) at {peer.base}")
        if "B1" in only:
            rounds: dict[str, list[dict]] = {"floor": [], "skus": [], "products": []}
            for _ in range(plan.rounds):
                for name in rounds:
                    rounds[name].append(loadgen(base + paths[name], token=token, concurrency=8, seconds=plan.seconds,
                                                warmup=plan.warmup, raw=True, keepalive=True))
            runs = {name: merged(reports) for name, reports in rounds.items()}
            floor = runs["floor"]
            results["details"]["floor"] = floor
            log(f"B1 floor: {floor['rps']} req/s p50 {floor['p50_ms']} ms (client CPU {floor['client_cpu_pct']}%)")
            for name in ("skus", "products"):
                run_ = runs[name]
                log(f"B1 {name}: {run_['rps']} req/s p50 {run_['p50_ms']} ms {run_['statuses']}")
                bench_entries.append(make_entry(
                    "B1", f"GET {paths[name]}", run_["rps"], "req/s", floor["rps"], "bare DRF endpoint (100 dicts)",
                    target=0.5, p50_ms=run_["p50_ms"], p99_ms=run_["p99_ms"],
                    baseline_p50_ms=floor["p50_ms"], baseline_p99_ms=floor["p99_ms"],
                    queries=queries.get(name), statuses=run_["statuses"],
                    ok=run_["server_errors"] == 0 and set(run_["statuses"]) == {"200"},
                    app_cpu_ratio=cpu_ratio(queries.get("floor"), queries.get(name)),
                ))
            run_list_vs_peer(results, service, peer, plan)
        if "B4" in only:
            tree = loadgen(base + paths["tree"], token=token, concurrency=2, requests=plan.tree_requests, keepalive=True)
            setup_django(env)
            floor_ms = tree_floor_ms()
            connections.close_all()
            log(f"B4 tree: p50 {tree['p50_ms']} ms (floor {floor_ms} ms), {queries['tree']['size_100']['queries']} queries")
            tree_queries = queries["tree"]["size_100"]["queries"]
            bench_entries.append(make_entry(
                "B4", f"GET {paths['tree']}", tree["p50_ms"], "ms p50", floor_ms,
                "one SELECT + nest + json.dumps in Python", target=None, lower_is_better=True,
                p50_ms=tree["p50_ms"], p99_ms=tree["p99_ms"], queries=queries["tree"], statuses=tree["statuses"],
                ok=tree_queries <= 3 and set(tree["statuses"]) == {"200"}, target_text="<= 3 queries",
            ))
        if "B2" in only:
            run_b2(results, service, peer, catalog, plan, hot=HOT_SKU_ID, oversell=OVERSELL_SKU_ID, env=env)

    results["details"]["server_ms"] = server_timings(WORK / "gunicorn.log")
    if "B3" in only:
        run_b3(results, env, catalog, plan)
    results["elapsed_seconds"] = round(time.time() - started, 1)
    return results


def server_timings(log_path: Path) -> dict:
    """p50/p90 of the time gunicorn spent on each route (its JSON access log), when it writes one."""
    durations: dict[str, list[float]] = {}
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return {}
    for line in lines:
        if '"gunicorn.access"' not in line:
            continue
        try:
            record = json.loads(line)
            durations.setdefault(f"{record['method']} {record['path']}", []).append(float(record["duration_ms"]))
        except (ValueError, KeyError, TypeError):
            continue
    summary = {}
    for route, values in durations.items():
        values.sort()
        summary[route] = {"requests": len(values), "p50": values[len(values) // 2],
                          "p90": values[min(len(values) - 1, int(len(values) * 0.9))]}
    return summary


def peer_entry(name: str, path: str, ours: dict, theirs: dict | None, *, target: float, rate_of=None,
               ok: bool = True, **extra) -> dict:
    """One row of the side-by-side comparison: this service's figure against the peer's, same run."""
    rate = rate_of or (lambda report: report["rps"])
    figure = rate(ours)
    entry = make_entry(
        "PEER", name, figure, "req/s", rate(theirs) if theirs else None,
        "the seed's stack (FastAPI, ../shared/peer), same load", target=target if theirs else None,
        ok=ok and ours["server_errors"] == 0 and (theirs is None or theirs["server_errors"] == 0),
        path=path, p50_ms=ours["p50_ms"], p99_ms=ours["p99_ms"],
        peer_p50_ms=theirs["p50_ms"] if theirs else None, peer_p99_ms=theirs["p99_ms"] if theirs else None,
        cpu_ms_per_request=ours.get("server_cpu_ms_per_request"),
        peer_cpu_ms_per_request=theirs.get("server_cpu_ms_per_request") if theirs else None,
        db_cpu_ms_per_request=ours.get("db_cpu_ms_per_request"),
        peer_db_cpu_ms_per_request=theirs.get("db_cpu_ms_per_request") if theirs else None,
        statuses=ours["statuses"], peer_statuses=theirs["statuses"] if theirs else None,
        p99_target_ms=P99_TARGET_MS, p99_met=ours["p99_ms"] is not None and ours["p99_ms"] <= P99_TARGET_MS, **extra,
    )
    if entry["met"] is not None:
        entry["met"] = entry["met"] and entry["p99_met"]
        entry["target"] += f", p99 <= {P99_TARGET_MS:.0f} ms"
    return entry


P99_TARGET_MS = 250.0


def run_list_vs_peer(results: dict, service: Server, peer: Server | None, plan: Plan) -> None:
    """`GET /api/v1/skus/?size=100&page=random` on both, 32 kept connections, rounds taking turns."""
    path = "/api/v1/skus/?size=100&page=$rand"
    ours, theirs = [], []
    for _ in range(plan.rounds):
        ours.append(measured(service, path, concurrency=32, seconds=plan.seconds, warmup=plan.warmup, rand=LIST_PAGES))
        if peer is not None:
            theirs.append(measured(peer, path, concurrency=32, seconds=plan.seconds, warmup=plan.warmup,
                                   rand=LIST_PAGES))
    mine = merged_measured(ours)
    other = merged_measured(theirs) if theirs else None
    results["details"]["peer_list"] = {"service": mine, "peer": other}
    log(f"list vs peer: {mine['rps']} req/s ({mine['server_cpu_ms_per_request']} ms CPU, {mine['db_cpu_ms_per_request']} ms in PostgreSQL) vs "
        f"{other['rps'] if other else '-'} req/s ({other['server_cpu_ms_per_request'] if other else '-'} ms CPU)")
    results["benchmarks"].append(peer_entry(
        "list, page=random, 32 kept connections", path, mine, other, target=1.5,
        ok=set(mine["statuses"]) == {"200"} and (other is None or set(other["statuses"]) == {"200"}),
    ))


def run_b2(results: dict, service: Server, peer: Server | None, catalog, plan: Plan, *, hot: int, oversell: int,
           env: dict[str, str]) -> None:
    """Reservations over HTTP (hot SKU, random SKUs, then a sell-out race) against pgbench, and the
    same loads on the peer, the three taking turns round by round."""
    from django.db import connections

    path = "/api/v1/stock/reservations/"
    runs = {}
    for label, sku_template, sku_range, peer_template, peer_range in (
            ("hot", f"SKU-{hot}", (hot, hot), PEER_HOT_SKU, (1, 1)),
            ("random", "SKU-$rand", (oversell + 1, catalog.skus), "SKU-$rand", (1, PEER_SKUS))):
        body = RESERVE_BODY % (label.upper(), sku_template)
        peer_body = RESERVE_BODY % (label.upper(), peer_template)
        http_rounds, peer_rounds, pg_rounds = [], [], []
        for i in range(plan.rounds):
            http_rounds.append(measured(service, path, concurrency=32, seconds=plan.seconds, warmup=plan.warmup,
                                        method="POST", body_template=body, rand=sku_range))
            if peer is not None:
                peer_rounds.append(measured(peer, path, concurrency=32, seconds=plan.seconds, warmup=plan.warmup,
                                            method="POST", body_template=peer_body, rand=peer_range, rand_width=6))
            pg_rounds.append(pgbench(DB_NAME, clients=32, seconds=plan.seconds, sku_range=sku_range,
                                     warehouse_id=catalog.warehouse_id, label=f"{label}{i}"))
        http, pg = merged_measured(http_rounds), merged(pg_rounds)
        other = merged_measured(peer_rounds) if peer_rounds else None
        created = http["statuses"].get("201", 0)
        rate = round(created / http["seconds"], 1) if http["seconds"] else 0.0
        log(f"B2 {label}: {rate} reservations/s {http['statuses']} ({http['server_cpu_ms_per_request']} ms CPU) "
            f"vs pgbench {pg['rps']} tps vs peer {other['rps'] if other else '-'} req/s "
            f"({other['server_cpu_ms_per_request'] if other else '-'} ms CPU)")
        results["details"][f"b2_{label}"] = {"http": http, "pgbench": pg, "peer": other}
        runs[label] = (http, pg, rate, other)
    race = loadgen(service.base + path, token=service.token, concurrency=32, requests=plan.oversell_requests,
                   method="POST", keepalive=True,
                   body_template='{"reference": "B2-RACE-$seq", "lines": [{"sku_code": "SKU-%d", "quantity": 1}]}' % oversell)
    log(f"B2 sell-out race on SKU-{oversell}: {race['statuses']}")
    setup_django(env)
    integrity = integrity_report(hot, oversell)
    connections.close_all()
    check = None
    if has_command("check_integrity"):
        done = manage(env, "check_integrity")
        check = {"exit_code": done.returncode, "output": (done.stdout + done.stderr)[-2000:]}
    sold_out_ok = (race["statuses"].get("201", 0) == integrity["oversell_sku"]["on_hand"]
                   and integrity["oversell_sku"]["lines"] <= integrity["oversell_sku"]["on_hand"])
    clean = (integrity["oversold_levels"] == 0 and integrity["reserved_drift_levels"] == 0
             and integrity["ledger_drift_levels"] == 0 and (check is None or check["exit_code"] == 0))
    results["details"]["b2"] = {"race": race, "integrity": integrity, "check_integrity": check}
    for label, (http, pg, rate, other) in runs.items():
        errors = http["server_errors"] + race["server_errors"] + sum(http["errors"].values())
        results["benchmarks"].append(make_entry(
            "B2", f"POST reservation, 32 clients, {label} SKU{'s' if label == 'random' else ''}", rate,
            "reservations/s", pg["rps"], "pgbench: the reservation's SQL, 32 clients",
            target=0.35 if label == "hot" else None, p50_ms=http["p50_ms"], p99_ms=http["p99_ms"],
            baseline_p50_ms=pg["p50_ms"], baseline_p99_ms=pg["p99_ms"], statuses=http["statuses"],
            ok=errors == 0 and clean and sold_out_ok, server_errors=errors,
            queries=results["details"]["queries"].get("reserve"),
            oversell=integrity["oversold_levels"], sold_out_race=race["statuses"],
        ))
    for label, (http, pg, rate, other) in runs.items():
        created = lambda report: round(report["statuses"].get("201", 0) / report["seconds"], 1) if report["seconds"] else 0.0  # noqa: E731
        results["benchmarks"].append(peer_entry(
            f"reserve 1 unit, {label} SKU{'s' if label == 'random' else ''}, 32 kept connections", path, http, other,
            target=2.0 if label == "hot" else 1.5, rate_of=created,
            ok=set(http["statuses"]) == {"201"} and (other is None or set(other["statuses"]) == {"201"})
            and integrity["oversold_levels"] == 0,
            oversell=integrity["oversold_levels"],
        ))


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
        with export_path.open(encoding="utf-8", newline="") as src, subset.open("w", encoding="utf-8", newline="") as dst:
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
    results["details"]["b3"] = {"rows": rows, "export_seconds": round(export_seconds, 2),
                                "import_seconds": round(import_seconds, 2), "copy_seconds": round(copy_seconds, 3),
                                "import_output": (done.stdout + done.stderr)[-1000:]}
    results["benchmarks"].append(make_entry(
        "B3", f"manage.py import_catalog, {rows} rows", import_rate, "rows/s", copy_rate,
        "COPY of the same CSV into a bare table", target=0.1, ok=True,
        seconds=round(import_seconds, 2), baseline_seconds=round(copy_seconds, 3),
    ))


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
