"""Liveness (`/health/live/`) and readiness (`/health/ready/`: database, cache, broker).
`/health/` itself is tested in tests/test_platform.py; the same checks against a real
database outage under gunicorn are in tests/reliability/test_metrics_gunicorn.py."""

import pytest
from django.db import connection

REDIS_DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1
BROKEN_CACHE = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_DOWN,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 0.2,
            "SOCKET_TIMEOUT": 0.2,
            "IGNORE_EXCEPTIONS": True,
        },
    }
}


@pytest.fixture
def database_down(monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)


@pytest.mark.django_db
def test_liveness_touches_nothing(client, django_assert_num_queries):
    for path in ("/health/live/", "/health/live"):
        with django_assert_num_queries(0):
            response = client.get(path)
        assert response.status_code == 200
        assert response.json() == {"status": "alive"}
        assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_liveness_stays_up_without_database(client, database_down):
    assert client.get("/health/live/").status_code == 200
    assert client.get("/health/").status_code == 503


@pytest.mark.django_db
def test_readiness_when_everything_answers(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/health/ready/")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "cache": "ok", "broker": "not_configured"}
    assert client.post("/health/ready/").status_code == 405


@pytest.mark.django_db
def test_readiness_without_database(client, database_down, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not_ready",
        "database": "unavailable",
        "cache": "ok",
        "broker": "not_configured",
    }


@pytest.mark.django_db
def test_readiness_with_redis_cache(client, settings):
    settings.CACHES = {"default": {**BROKEN_CACHE["default"], "LOCATION": "redis://127.0.0.1:6379/13"}}
    assert client.get("/health/ready/").json()["cache"] == "ok"
    settings.CACHES = BROKEN_CACHE
    response = client.get("/health/ready/")
    assert response.status_code == 503
    assert response.json()["cache"] == "unavailable" and response.json()["database"] == "ok"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url, expected",
    [
        ("redis://127.0.0.1:6379/13", "ok"),
        (REDIS_DOWN, "unavailable"),
        ("amqp://guest:guest@127.0.0.1:6379//", "ok"),  # something accepts TCP there
        ("amqp://guest:guest@127.0.0.1:1//", "unavailable"),
        ("redis://127.0.0.1:notaport/0", "unavailable"),
    ],
)
def test_readiness_checks_the_broker_when_configured(client, settings, url, expected):
    settings.CELERY_BROKER_URL = url
    response = client.get("/health/ready/")
    assert response.json()["broker"] == expected
    assert response.status_code == (200 if expected == "ok" else 503)
    assert response.json()["status"] == ("ready" if expected == "ok" else "not_ready")
