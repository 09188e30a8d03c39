"""Benchmarks of the outbox: drain a backlog to a local receiver, and what events add to a reservation.

    python -m bench.events [--events 100000] [--reservations 400] [--json bench/.work/events.json]

1. (Re)creates the database `inventory_bench_events` and migrates it.
2. Drain: writes N events (1,000 stock levels, in order) for one subscription to a receiver
   on 127.0.0.1, then starts `celery -A inventory_site worker` (prefork) and times how long
   it takes until every delivery is `delivered`; samples the worker processes' memory.
3. Reservation cost: `reservation_create` + `reservation_release` through the services,
   rounds with and without a subscription taking turns (the outbox rows are written either
   way; a subscriber adds its delivery rows, written by the worker, not the request).
Redis DB 5 with the key prefix `inv_events_bench:` is the broker.
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
ENV = {
    "DATABASE_URL": f"{PG_URL}/{DB_NAME}", "DEBUG": "false", "SECRET_KEY": "bench-only", "CONN_MAX_AGE": "600",
    "CELERY_BROKER_URL": BROKER, "CELERY_KEY_PREFIX": KEY_PREFIX, "WEBHOOK_ALLOW_HTTP": "true",
    "WEBHOOK_ALLOW_PRIVATE_URLS": "true", "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "inventory_site.settings",
}


def log(message: str) -> None:
    print(f"[bench events {time.strftime('%H:%M:%S')}] {message}", flush=True)


def setup_database() -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DB_NAME)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True,
                   env={**os.environ, **ENV})


class CountingReceiver:
    """Answers 200 to every POST and counts them."""

    def __init__(self):
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

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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
        [sys.executable, "-m", "celery", "-A", "inventory_site", "worker", "--pool", "prefork",
         "--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-B", "--schedule", str(ROOT / "bench" / ".work" / "events-beat"), "--loglevel", "WARNING", "-n", f"bench-events-{os.getpid()}@%h"],
        cwd=ROOT, env={**os.environ, **ENV}, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
    )


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

    receiver = CountingReceiver()
    webhook_create(url=receiver.url, events=["stock.*"])
    log(f"writing {events} events")
    batch = 5000
    for start in range(0, events, batch):
        events_emit_many(events=[
            EventDraft("stock.level.changed", f"stock_level:{n % 1000}", {"n": n, "on_hand": n}, f"SKU-{n % 1000}")
            for n in range(start, min(events, start + batch))
        ])
    purge_broker()  # the kicks above: the worker starts from the outbox alone
    connection.close()
    worker = start_worker(concurrency)
    samples = []
    began = time.monotonic()
    try:
        from events.tasks import dispatch

        time.sleep(2)
        dispatch.apply_async()
        while True:
            done = WebhookDelivery.objects.filter(status="delivered").count()
            samples.append((round(time.monotonic() - began, 1), done, rss_kib(worker.pid)))
            if done >= events:
                break
            if time.monotonic() - began > 1800:
                raise RuntimeError(f"drain did not finish: {done}/{events}")
            time.sleep(2)
    finally:
        elapsed = time.monotonic() - began
        stop(worker)
        connection.close()
    memory = [s[2] for s in samples if s[2]]
    third = max(1, len(memory) // 3)
    return {
        "events": events, "seconds": round(elapsed, 1), "events_per_second": round(events / elapsed, 1),
        "receiver_requests": receiver.count, "worker_concurrency": concurrency,
        "worker_rss_mib_first_third": round(statistics.mean(memory[:third]) / 1024, 1),
        "worker_rss_mib_last_third": round(statistics.mean(memory[-third:]) / 1024, 1),
        "worker_rss_mib_max": round(max(memory) / 1024, 1), "samples": samples,
        "events_in_outbox": Event.objects.count(),
    }


def reservation_cost(reservations: int, rounds: int) -> dict:
    from catalog.models import SKU
    from events.models import WebhookSubscription
    from events.services import webhook_create, webhook_delete
    from stock.services import ReservationRequestLine, reservation_create, reservation_release, stock_receive
    from tests.catalog.factories import SKUFactory

    sku = SKU.objects.get(pk=SKUFactory(sku_code="BENCH-EV-1").pk)
    stock_receive(sku=sku, quantity=1_000_000, reference="bench")
    receiver = CountingReceiver()

    def one_round(label: str) -> float:
        began = time.perf_counter()
        for n in range(reservations):
            reservation = reservation_create(
                reference=f"{label}-{n}", lines=[ReservationRequestLine(sku=sku, quantity=1)])
            reservation_release(reservation=reservation)
        return (time.perf_counter() - began) / reservations * 1000

    one_round("warmup")
    without, with_sub = [], []
    for r in range(rounds):
        WebhookSubscription.objects.all().delete()
        without.append(one_round(f"none-{r}"))
        subscription = webhook_create(url=receiver.url, events=["stock.*", "reservation.*"])
        with_sub.append(one_round(f"sub-{r}"))
        webhook_delete(subscription=subscription)
    a, b = statistics.median(without), statistics.median(with_sub)
    return {"reservations_per_round": reservations, "rounds": rounds,
            "ms_per_create_and_release_without_subscribers": round(a, 3),
            "ms_per_create_and_release_with_subscriber": round(b, 3),
            "added_percent": round((b - a) / a * 100, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--reservations", type=int, default=300)
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
        log(f"drain: {results['drain']['events_per_second']} events/s, worker RSS "
            f"{results['drain']['worker_rss_mib_first_third']} -> {results['drain']['worker_rss_mib_last_third']} MiB")
    if args.only != "drain":
        results["reservation"] = reservation_cost(args.reservations, args.rounds)
        log(f"reservation: {results['reservation']}")
    Path(args.json).write_text(json.dumps(results, indent=2))
    summary = {name: {k: v for k, v in figures.items() if k != "samples"} for name, figures in results.items()}
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
