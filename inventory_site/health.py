"""Health endpoints, no auth:

- `/health/live/`: the process answers (no database, cache or broker touched): restart it if not.
- `/health/ready/`: it can serve: the database, the cache and, when `CELERY_BROKER_URL`
  is configured, the broker answer; send it no traffic if not.
- `/health/`: the contract's original check (the database), kept as it was.
"""

import os
import secrets
import socket
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

BROKER_TIMEOUT = 2.0
DEFAULT_PORTS = {"amqp": 5672, "amqps": 5671, "redis": 6379, "rediss": 6379}


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure to reach the database means unhealthy
        return False
    return True


def cache_ok() -> bool:
    """A value written to the cache reads back (a lost Redis is ignored by the cache, so ask)."""
    key, value = f"health:{secrets.token_hex(8)}", secrets.token_hex(8)
    try:
        cache.set(key, value, timeout=10)
        found = cache.get(key)
        cache.delete(key)
    except Exception:  # a cache that raises is as down as one that forgets
        return False
    return found == value


def broker_ok(url: str) -> bool:
    """Redis brokers answer PING; the embedded file broker has its queue folder; others
    (AMQP) accept a TCP connection."""
    parts = urlsplit(url)
    if parts.scheme == "filesystem":
        options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
        return os.access(options.get("data_folder_in", "."), os.W_OK)
    try:
        if parts.scheme in ("redis", "rediss"):
            client = redis.Redis.from_url(url, socket_timeout=BROKER_TIMEOUT, socket_connect_timeout=BROKER_TIMEOUT)
            try:
                return bool(client.ping())
            finally:
                client.close()
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.split("+")[-1], 5672)
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=BROKER_TIMEOUT):
            return True
    except (OSError, ValueError, redis.RedisError):
        return False


@never_cache
@require_GET
def health(request):
    """200 when the database answers, 503 when it does not. No auth."""
    if not database_ok():
        return JsonResponse({"status": "unhealthy", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "healthy", "database": "ok"})


@never_cache
@require_GET
def live(request):
    """200 as long as the process serves requests; touches nothing else."""
    return JsonResponse({"status": "alive"})


@never_cache
@require_GET
def ready(request):
    """200 `{"status": "ready", "database": "ok", "cache": "ok", "broker": ...}` when every
    dependency answers (`broker` is `not_configured` without `CELERY_BROKER_URL`); else 503
    with `"status": "not_ready"` and `unavailable` for each one that does not."""
    checks = {"database": database_ok(), "cache": cache_ok()}
    broker_url = getattr(settings, "CELERY_BROKER_URL", "")
    if broker_url:
        checks["broker"] = broker_ok(broker_url)
    body = {name: "ok" if good else "unavailable" for name, good in checks.items()}
    body.setdefault("broker", "not_configured")
    ready_now = all(checks.values())
    return JsonResponse({"status": "ready" if ready_now else "not_ready", **body}, status=200 if ready_now else 503)
