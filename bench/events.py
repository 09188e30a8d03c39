"""Benchmarks of the outbox: drain a backlog to a local receiver, and what events add to a reservation.

    python -m bench.events [--events 100000] [--seconds 15 --rounds 3 --clients 8] [--json bench/.work/events.json]

1. (Re)creates the database `inventory_bench_events` and migrates it.
2. Drain: writes N events (1,000 stock levels, in order) for one subscription to a receiver
   on 127.0.0.1, then starts `celery -A inventory_site worker` (prefork) and times how long
   it takes until every delivery is `delivered`; samples the worker processes' memory
   (RSS of the main process and its pool children, every 2 s: start, peak, end).
3. Reservation cost: `POST /api/v1/stock/reservations/` over HTTP against gunicorn (200 SKUs,
   8 kept connections), rounds without and with a subscription taking turns, the worker
   running in both (the outbox rows are written either way; a subscriber adds its delivery
   rows and the deliveries, done by the worker beside the server).
Redis DB 5 with the key prefix `inv_events_bench:` is the broker (BENCH_EVENTS_BROKER).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).absolute().parent.parent
DB_NAME = os.environ.get("BENCH_EVENTS_DB", "inventory_bench_events")
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
BROKER = os.environ.get("BENCH_EVENTS_BROKER", "redis://127.0.0.1:6379/5")
KEY_PREFIX = "inv_events_bench:"
# Listening ports: the receiver and the served app (0: any free port).
RECEIVER_PORT = int(os.environ.get("BENCH_EVENTS_RECEIVER_PORT", "0"))
SERVER_PORT = int(os.environ.get("BENCH_EVENTS_SERVER_PORT", "0"))
ENV = {
    "DATABASE_URL": f"{PG_URL}/{DB_NAME}",
    "DEBUG": "false",
    "SECRET_KEY": "bench-only",
    "CELERY_BROKER_URL": BROKER,
    "CELERY_KEY_PREFIX": KEY_PREFIX,
    "WEBHOOK_ALLOW_HTTP": "true",
    "WEBHOOK_ALLOW_PRIVATE_URLS": "true",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "inventory_site.settings",
}


def log(message: str) -> None:
    print(f"[bench events {time.strftime('%H:%M:%S')}] {message}", flush=True)


def setup_database() -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        check=True,
        env={**os.environ, **ENV},
    )


class CountingReceiver:
    """Answers 200 to every POST and counts them."""

    def __init__(self, port: int = 0):
        self.count = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def purge_broker() -> None:
    import redis

    client = redis.Redis.from_url(BROKER)
    keys = list(client.scan_iter(match=f"{KEY_PREFIX}*"))
    if keys:
        client.delete(*keys)


def rss_kib(root_pid: int) -> int:
    """Resident memory of a process and its children, KiB (from /proc)."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        pid, ppid = int(fields["Pid"]), int(fields["PPid"])
        if pid == root_pid or ppid == root_pid:
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total


def start_worker(concurrency: int) -> subprocess.Popen:
    log_file = open(ROOT / "bench" / ".work" / "events-worker.log", "wb")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "inventory_site",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-B",
            "--schedule",
            str(ROOT / "bench" / ".work" / "events-beat"),
            "--loglevel",
            "WARNING",
            "-n",
            f"bench-events-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def children(root_pid: int) -> int:
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"\nPPid:\t{root_pid}\n" in status.read_text():
                count += 1
        except OSError:
            continue
    return count


def wait_for_pool(worker: subprocess.Popen, concurrency: int, timeout: float = 120) -> None:
    """Until the worker forked its pool (and beat): its processes are up, their imports done."""
    deadline = time.monotonic() + timeout
    while children(worker.pid) < concurrency + 1:
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the worker did not start its pool")
        time.sleep(0.5)
    time.sleep(3)  # the pool processes finish importing Django and the tasks


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def drain(events: int, concurrency: int) -> dict:
    from django.db import connection

    from events.models import Event, WebhookDelivery
    from events.services import EventDraft, events_emit_many, webhook_create

    receiver = CountingReceiver(RECEIVER_PORT)
    webhook_create(url=receiver.url, events=["stock.*"])
    log(f"writing {events} events")
    batch = 5000
    for start in range(0, events, batch):
        events_emit_many(
            events=[
                EventDraft("stock.level.changed", f"stock_level:{n % 1000}", {"n": n, "on_hand": n}, f"SKU-{n % 1000}")
                for n in range(start, min(events, start + batch))
            ]
        )
    purge_broker()  # the kicks above: the worker starts from the outbox alone
    connection.close()
    worker = start_worker(concurrency)
    samples = []
    try:
        from events.tasks import dispatch

        wait_for_pool(worker, concurrency)  # the clock and the memory samples start with a ready worker
        began = time.monotonic()
        dispatch.apply_async()
        while True:
            done = WebhookDelivery.objects.filter(status="delivered").count()
            samples.append((round(time.monotonic() - began, 1), done, rss_kib(worker.pid)))
            if done >= events:
                break
            if time.monotonic() - began > 1800:
                raise RuntimeError(f"drain did not finish: {done}/{events}")
            time.sleep(2)
        elapsed = time.monotonic() - began
    finally:
        stop(worker)
        connection.close()
    memory = [s[2] for s in samples if s[2]]
    third = max(1, len(memory) // 3)
    return {
        "events": events,
        "seconds": round(elapsed, 1),
        "events_per_second": round(events / elapsed, 1),
        "receiver_requests": receiver.count,
        "worker_concurrency": concurrency,
        "worker_rss_mib_start": round(memory[0] / 1024, 1),
        "worker_rss_mib_end": round(memory[-1] / 1024, 1),
        "worker_rss_mib_first_third": round(statistics.mean(memory[:third]) / 1024, 1),
        "worker_rss_mib_last_third": round(statistics.mean(memory[-third:]) / 1024, 1),
        "worker_rss_mib_max": round(max(memory) / 1024, 1),
        "samples": samples,
        "events_in_outbox": Event.objects.count(),
    }


RESERVE_PATH = "/api/v1/stock/reservations/"
RESERVE_BODY = '{"reference": "EV-$seq", "lines": [{"sku_code": "BENCH-EV-$rand", "quantity": 1}]}'
RESERVE_SKUS = 200


def reservation_cost(seconds: float, rounds: int, concurrency: int) -> dict:
    """POST /api/v1/stock/reservations/ against gunicorn, rounds without and with a subscriber taking turns.

    Served as in production (gunicorn.conf.py as shipped), with the Celery worker running in
    both phases (the commit's kick to the broker is paid either way; with a subscriber the
    worker also fans out and delivers, beside the server on the same cores). Figures per
    phase: created reservations/s, latency percentiles, and the server's CPU per request.
    """
    from django.contrib.auth import get_user_model
    from django.db import connections
    from rest_framework.authtoken.models import Token

    import bench.processes
    from bench.run import Server, gunicorn, measured, merged_measured
    from catalog.models import SKU
    from events.models import WebhookDelivery
    from events.services import webhook_create, webhook_delete
    from stock.services import stock_receive
    from tests.catalog.factories import SKUFactory

    for n in range(1, RESERVE_SKUS + 1):
        sku = SKU.objects.get(pk=SKUFactory(sku_code=f"BENCH-EV-{n:03d}").pk)
        stock_receive(sku=sku, quantity=10_000_000, reference="bench")
    user = get_user_model().objects.create_superuser("bench-events", "bench@example.com", "x" * 20)
    token = Token.objects.create(user=user).key
    receiver = CountingReceiver(RECEIVER_PORT)
    connections.close_all()
    # As shipped (gunicorn.conf.py's workers, threads and recycling; the settings' defaults), the
    # rate limit aside: see bench.databases.server_environment.
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "WEB_CONCURRENCY", "CONN_"))},
        **ENV,
        "RATE_LIMIT_REQUESTS_PER_MINUTE": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    if SERVER_PORT:
        bench.processes.free_port = lambda: SERVER_PORT  # gunicorn() takes its port from there
    worker = start_worker(2)
    phases: dict[str, list[dict]] = {"without_subscribers": [], "with_subscriber": []}
    try:
        with gunicorn(env, log_path=ROOT / "bench" / ".work" / "events-gunicorn.log") as (base, pgid):
            server = Server("service", base, token, pgid)
            load = dict(
                concurrency=concurrency,
                seconds=seconds,
                warmup=2.0,
                method="POST",
                body_template=RESERVE_BODY,
                rand=(1, RESERVE_SKUS),
                rand_width=3,
            )
            for r in range(rounds):
                phases["without_subscribers"].append(measured(server, RESERVE_PATH, **load))
                subscription = webhook_create(url=receiver.url, events=["stock.*", "reservation.*"])
                connections.close_all()
                phases["with_subscriber"].append(measured(server, RESERVE_PATH, **load))
                # Let the worker catch up, so the next phase without subscribers runs beside an idle worker.
                settle_deadline = time.monotonic() + 300
                while WebhookDelivery.objects.filter(status="pending").exists() and time.monotonic() < settle_deadline:
                    time.sleep(1)
                webhook_delete(subscription=subscription)
                connections.close_all()
                log(
                    f"reservation round {r + 1}/{rounds}: "
                    + ", ".join(
                        f"{name} p50 {runs[-1]['p50_ms']} ms, {runs[-1]['server_cpu_ms_per_request']} ms CPU"
                        for name, runs in phases.items()
                    )
                )
    finally:
        stop(worker)
        connections.close_all()
    result = {
        "path": RESERVE_PATH,
        "clients": concurrency,
        "seconds_per_phase": seconds,
        "rounds": rounds,
        "receiver_requests": receiver.count,
    }
    for name, runs in phases.items():
        merged = merged_measured(runs)
        statuses = merged["statuses"]
        result[name] = {
            "requests": merged["requests"],
            "statuses": statuses,
            "created_per_second": round(statuses.get("201", 0) / merged["seconds"], 1) if merged["seconds"] else 0.0,
            "p50_ms": merged["p50_ms"],
            "p90_ms": merged.get("p90_ms"),
            "p99_ms": merged["p99_ms"],
            "server_cpu_ms_per_request": merged["server_cpu_ms_per_request"],
        }
    a, b = result["without_subscribers"], result["with_subscriber"]
    result["added_percent_p50"] = round((b["p50_ms"] - a["p50_ms"]) / a["p50_ms"] * 100, 1)
    result["added_percent_server_cpu"] = round(
        (b["server_cpu_ms_per_request"] - a["server_cpu_ms_per_request"]) / a["server_cpu_ms_per_request"] * 100, 1
    )
    result["added_percent_throughput"] = round(
        (a["created_per_second"] - b["created_per_second"]) / a["created_per_second"] * 100, 1
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15.0, help="per reservation phase and round")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients of the reservation phases")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["drain", "reservation"], help="run one of the two")
    parser.add_argument("--json", default=str(ROOT / "bench" / ".work" / "events.json"))
    args = parser.parse_args(argv)
    # `timeout` or Ctrl-C: unwind, so the worker started below is stopped (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    (ROOT / "bench" / ".work").mkdir(parents=True, exist_ok=True)
    os.environ.update(ENV)
    setup_database()
    import django

    django.setup()
    results = {}
    if args.only != "reservation":
        results["drain"] = drain(args.events, args.concurrency)
        figures = results["drain"]
        log(
            f"drain: {figures['events_per_second']} events/s, worker RSS start {figures['worker_rss_mib_start']}, "
            f"peak {figures['worker_rss_mib_max']}, end {figures['worker_rss_mib_end']} MiB"
        )
    if args.only != "drain":
        results["reservation"] = reservation_cost(args.seconds, args.rounds, args.clients)
        log(f"reservation: {results['reservation']}")
    Path(args.json).write_text(json.dumps(results, indent=2))
    summary = {name: {k: v for k, v in figures.items() if k != "samples"} for name, figures in results.items()}
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
