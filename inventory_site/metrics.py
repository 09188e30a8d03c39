"""Prometheus metrics: what the platform measures per request, what the apps count, and
`/metrics` to scrape them.

Apps record their figures through the functions here (`reservation_outcome`,
`stock_adjusted`, `webhook_delivery`), so that they never touch `prometheus_client`
and this module imports no app. Under gunicorn every worker has its own counters:
with `PROMETHEUS_MULTIPROC_DIR` set (gunicorn.conf.py sets one when it is not)
`prometheus_client` keeps them in files there and `/metrics` adds up all workers.
"""

import hmac
import ipaddress
import os
import time
from contextlib import ExitStack

from django.conf import settings
from django.db import connections, transaction
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

HTTP_REQUESTS = Counter(
    "inventory_http_requests_total",
    "HTTP requests answered, by route (URL name), method and status.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "inventory_http_request_duration_seconds",
    "Time to answer a request, by route and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DB_QUERIES = Histogram(
    "inventory_db_queries_per_request",
    "SQL queries run while answering a request, by route.",
    ["route"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100),
)
RESERVATIONS = Counter(
    "inventory_reservations_total",
    "Reservations by outcome: created, refused (not enough stock), committed, released, expired.",
    ["outcome"],
)
STOCK_ADJUSTMENTS = Counter(
    "inventory_stock_adjustments_total",
    "Stock adjustments written (ledger movements), by reason.",
    ["reason"],
)
WEBHOOK_DELIVERIES = Counter(
    "inventory_webhook_deliveries_total",
    "Webhook delivery attempts, by outcome.",
    ["outcome"],
)
WEBHOOK_LATENCY = Histogram(
    "inventory_webhook_delivery_duration_seconds",
    "Time of one webhook delivery attempt.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


# --- What the apps record -----------------------------------------------------------


def reservation_outcome(outcome: str) -> None:
    """Count a reservation `created`, `committed`, `released` or `expired`, once the
    transaction that did it commits (a rolled-back or retried attempt counts nothing)."""
    transaction.on_commit(RESERVATIONS.labels(outcome=outcome).inc)


def reservation_refused() -> None:
    """Count a reservation refused for lack of stock (nothing was written: count at once)."""
    RESERVATIONS.labels(outcome="refused").inc()


def stock_adjusted(*, reason: str) -> None:
    """Count one adjustment movement of `reason`, once its transaction commits."""
    transaction.on_commit(STOCK_ADJUSTMENTS.labels(reason=str(reason)).inc)


def webhook_delivery(*, outcome: str, seconds: float | None = None) -> None:
    """The seam for webhook delivery figures: call once per attempt, with `outcome` one of
    `delivered`, `failed` (will be retried) or `dead` (gave up), and its duration."""
    WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
    if seconds is not None:
        WEBHOOK_LATENCY.observe(seconds)


# --- Per request --------------------------------------------------------------------


class _QueryCounter:
    """A `connection.execute_wrapper` that counts the queries run through it."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def route_of(request) -> str:
    """The route label: the resolved URL name (`sku-list`), never the raw path."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name  # the URL name, or the view's dotted path when it has none


class MetricsMiddleware:
    """Counts each request, its latency and its SQL queries, labelled by route and status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counter = _QueryCounter()
        started = time.perf_counter()
        with ExitStack() as stack:
            for connection in connections.all(initialized_only=False):
                stack.enter_context(connection.execute_wrapper(counter))
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        route = route_of(request)
        method = request.method if request.method in METHODS else "other"
        HTTP_REQUESTS.labels(route=route, method=method, status=str(response.status_code)).inc()
        HTTP_LATENCY.labels(route=route, method=method).observe(elapsed)
        DB_QUERIES.labels(route=route).observe(counter.count)
        return response


# --- /metrics -------------------------------------------------------------------------


def _address_allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in settings.METRICS_ALLOWED_IPS:
        try:
            if ip in ipaddress.ip_network(entry.strip(), strict=False):
                return True
        except ValueError:  # a malformed entry allows nothing
            continue
    return False


def _token_given(request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _registry():
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


@never_cache
@require_GET
def metrics(request):
    """The metrics in Prometheus' text format, for a caller from `METRICS_ALLOWED_IPS` or
    with `Authorization: Bearer <METRICS_TOKEN>`; 401 for a wrong token, else 403."""
    token = _token_given(request)
    expected = settings.METRICS_TOKEN
    if token is not None and not (expected and hmac.compare_digest(token.encode(), expected.encode())):
        return HttpResponse(
            "Wrong metrics token.\n",
            status=401,
            content_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    if token is None and not _address_allowed(request.META.get("REMOTE_ADDR", "")):
        return HttpResponse("Metrics are not served to this address.\n", status=403, content_type="text/plain")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
