"""Gunicorn settings for production: `gunicorn inventory_site.wsgi` picks this file up.

Everything is read from the environment so that one image runs anywhere:
`PORT` (8000), `WEB_CONCURRENCY` (workers, default 2 per CPU core), `GUNICORN_THREADS` (4),
`GUNICORN_TIMEOUT` (30 s), `FORWARDED_ALLOW_IPS` (the load balancer's addresses),
`PROMETHEUS_MULTIPROC_DIR` (where the workers keep their metrics; a fresh temporary
folder when unset, emptied at start either way).
The access log is one JSON object per line and never carries the `Authorization` header,
cookies or the query string's secrets: it names only the fields listed in `ACCESS_FIELDS`.
"""

import gc
import json
import multiprocessing
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from gunicorn.glogging import Logger


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_env_int('PORT', 8000)}"
workers = _env_int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count())
# Threaded workers by default: they keep connections alive (sync workers close each one after
# its response) and overlap one request's database waits with another's Python. Measured with
# bench.servers (docs/performance.md): as many or more requests/s than sync workers on every hot
# endpoint. 4 threads: each thread keeps its own database connection (CONN_MAX_AGE), so a
# server holds workers x 4 of them; 8 threads measured no better within the noise.
# GUNICORN_THREADS=1 gives sync workers.
threads = _env_int("GUNICORN_THREADS", 4)
# gthread's own `timeout` never ends a request running in a thread (its main loop reports the
# worker alive regardless); this subclass ends such a request (inventory_site/gunicorn_workers.py).
# Sync workers are ended by the arbiter itself.
worker_class = "inventory_site.gunicorn_workers.TimedThreadWorker" if threads > 1 else "sync"
# A request running longer than this is ended (a 503; a worker stuck in C code is replaced); the
# database's own connect timeout (DB_CONNECT_TIMEOUT, 5 s) keeps a lost database well below it.
timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _env_int("GUNICORN_KEEPALIVE", 5)
# Recycle a worker now and then, so that a slow leak cannot grow without bound, but rarely: a new
# worker imports the whole application (about a second of CPU) and opens new database
# connections, while the others take its share. After 2,000 requests, at 400 requests/s over 4
# workers, one restarted somewhere every 5 s, and the p99 under load reached 0.5-1.3 s; after
# 100,000 (+ up to 10,000, so that workers started together do not restart together) it is
# one every few minutes. GUNICORN_MAX_REQUESTS=0 turns recycling off.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 100_000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 10_000)
# Only these peers may set X-Forwarded-* (the load balancer); "*" when it is the only way in.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Gunicorn's own scheme detection; Django reads X-Forwarded-Proto itself (SECURE_PROXY_SSL_HEADER).
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = "inventory"
# gunicorn's control socket defaults to one fixed path per user ($HOME/.gunicorn/gunicorn.ctl),
# which several servers on one host (or in tests) would fight over; off unless asked for.
control_socket_disable = os.environ.get("GUNICORN_CONTROL_SOCKET", "") == ""
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]

# Fields of the access log (what gunicorn's atoms h m U s B M a {x-request-id}o
# {x-forwarded-for}i hold). Request headers other than these (Authorization, Cookie) are
# never written.
ACCESS_FIELDS = (
    "remote_addr",
    "method",
    "path",
    "status",
    "bytes",
    "duration_ms",
    "user_agent",
    "request_id",
    "forwarded_for",
)


class JsonAccessLogger(Logger):
    """Writes each access log line as a JSON object of `ACCESS_FIELDS` only, and
    gunicorn's own messages (worker boot, timeouts) as JSON lines like the app's."""

    def setup(self, cfg):
        super().setup(cfg)
        from inventory_site.logging import JsonFormatter

        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        # The fields read directly: gunicorn's `atoms()` formats some thirty values and
        # copies every header and environ key of each request, to use nine of them.
        if not self.access_log_enabled:
            return
        try:
            status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
            record = {
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "level": "INFO",
                "logger": "gunicorn.access",
                "remote_addr": environ.get("REMOTE_ADDR") or "-",
                "method": environ.get("REQUEST_METHOD") or None,
                "path": environ.get("PATH_INFO") or None,
                "status": int(status) if str(status).isdigit() else status,
                "bytes": getattr(resp, "sent", None),
                "duration_ms": request_time.seconds * 1000 + request_time.microseconds // 1000,
                "user_agent": environ.get("HTTP_USER_AGENT") or "-",
                "request_id": _header(resp.headers, "x-request-id"),
                "forwarded_for": _header(getattr(req, "headers", ()), "x-forwarded-for"),
            }
            self.access_log.info(json.dumps(record, default=str))
        except Exception:  # a broken log line must never break the response
            self.error_log.exception("could not write the access log line")


def _header(headers, name: str):
    """The value of one header (`name` in lower case) of gunicorn's (name, value) pairs, or None."""
    for key, value in headers.items() if hasattr(headers, "items") else headers:
        if key.lower() == name:
            return value or None
    return None


logger_class = JsonAccessLogger

# Every worker counts its own requests; prometheus_client adds them up from files in this
# folder. It must be set before the workers import prometheus_client, i.e. here.
_OWN_METRICS_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="inventory-metrics-")


def on_starting(server):
    """Start from zero: files left by a previous run would add old counts to the new ones."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob("*.db"):
        leftover.unlink()


def post_worker_init(worker):
    """The application is loaded: what loading it made (modules, URL patterns, settings) moves to
    the collector's permanent generation, so a full collection walks only what requests made.
    Such a pass stops every thread of the worker: the list's p99 under 32 connections was 285 ms
    without this and 237 and 208 ms with it (bench.run --only B1, three runs in a row)."""
    gc.collect()
    gc.freeze()


def worker_abort(worker):
    """A sync worker past `timeout` gets SIGABRT from the arbiter: end its request with
    `RequestTimedOut` (a 503, the transaction rolled back) instead of exiting mid-request; one
    still stuck is killed by the arbiter's next look. (The threaded worker ends its own.)"""
    if type(worker).__name__ == "SyncWorker":
        import threading

        from inventory_site.exceptions import INTERRUPTED_THREADS, RequestTimedOut

        INTERRUPTED_THREADS.add(threading.get_ident())  # a 503 even if a library swallows the exception
        raise RequestTimedOut()


def post_request(worker, req, environ, resp):
    """After a sync worker's interrupted request: forget the mark, and drop its database
    connections (one may have been cut mid-query)."""
    if type(worker).__name__ == "SyncWorker":
        import threading

        from inventory_site.exceptions import INTERRUPTED_THREADS

        if threading.get_ident() in INTERRUPTED_THREADS:
            from django.db import connections

            INTERRUPTED_THREADS.discard(threading.get_ident())
            connections.close_all()


def child_exit(server, worker):
    """A dead worker's live gauges must not be reported any more (its counters stay summed).
    Imported here, after PROMETHEUS_MULTIPROC_DIR is set: prometheus_client reads it on import."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics folder this file made (one given by the operator stays)."""
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
