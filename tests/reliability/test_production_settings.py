"""Production deployment: `check --deploy`, gunicorn settings and JSON access log, static
files by whitenoise with DEBUG off, security headers behind a proxy, the shared Redis
rate limit, and structured logs that carry the request id and never a credential."""

import io
import json
import logging
import os
import runpy
import subprocess
import sys
import time
import uuid
from types import SimpleNamespace

import httpx
import pytest
from django.core.cache.backends.base import InvalidCacheBackendError  # noqa: F401
from django.test import Client, RequestFactory

from inventory_site.logging import JsonFormatter
from tests.conftest import token_client
from tests.factories import UserFactory
from tests.reliability.server import BASE_DIR, AppServer, database_url, production_env

PYTHON = sys.executable
REDIS_URL = "redis://127.0.0.1:6379/0"
# For settings checks in a fresh process: a PostgreSQL URL that nothing connects to.
UNUSED_DATABASE = "postgres://postgres@127.0.0.1:1/unused"


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=BASE_DIR,
        env=production_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_settings(*names: str, **env: str) -> dict:
    """The values of `names` in a fresh process with the production environment plus `env`."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    result = subprocess.run(
        [PYTHON, "-c", code], cwd=BASE_DIR, env=production_env(**env), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- manage.py check --deploy -------------------------------------------------------


def test_check_deploy_is_clean_with_debug_off():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", DATABASE_URL=UNUSED_DATABASE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout + result.stderr


def test_a_database_url_that_is_not_postgresql_is_refused():
    result = run_manage("check", DATABASE_URL="mysql://root@127.0.0.1:3306/inventory")
    assert result.returncode != 0
    assert "DATABASE_URL must name a PostgreSQL server" in result.stderr


def test_check_deploy_still_warns_when_debug_is_on():
    """The clean result above is earned by the settings, not by silencing the checks."""
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="true", DATABASE_URL=UNUSED_DATABASE)
    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr  # DEBUG in deployment


def test_missing_secret_key_refuses_to_start():
    env = production_env(DATABASE_URL=UNUSED_DATABASE)
    env["SECRET_KEY"] = ""
    result = subprocess.run(
        [PYTHON, "manage.py", "check"], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_https_settings_behind_a_proxy():
    names = (
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "REST_FRAMEWORK",
        "CACHES",
    )
    default = production_settings(*names, DATABASE_URL=UNUSED_DATABASE)
    assert default["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert default["SECURE_SSL_REDIRECT"] is False
    assert default["SESSION_COOKIE_SECURE"] is True and default["CSRF_COOKIE_SECURE"] is True
    assert default["SECURE_HSTS_SECONDS"] >= 31536000
    assert default["REST_FRAMEWORK"]["NUM_PROXIES"] == 0
    assert default["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    configured = production_settings(
        *names, DATABASE_URL=UNUSED_DATABASE, SECURE_SSL_REDIRECT="true", NUM_PROXIES="1", REDIS_URL=REDIS_URL
    )
    assert configured["SECURE_SSL_REDIRECT"] is True
    assert configured["REST_FRAMEWORK"]["NUM_PROXIES"] == 1
    assert configured["CACHES"]["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert configured["CACHES"]["default"]["LOCATION"] == REDIS_URL


# --- gunicorn.conf.py -----------------------------------------------------------------


def load_gunicorn_conf(monkeypatch, **env) -> dict:
    for name in ("WEB_CONCURRENCY", "PORT", "GUNICORN_BIND", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))


def test_gunicorn_workers_and_bind_from_the_environment(monkeypatch):
    conf = load_gunicorn_conf(monkeypatch)
    assert conf["workers"] == 2 * os.cpu_count()
    assert conf["bind"] == "0.0.0.0:8000"
    # Threaded workers by default: connections kept alive (sync workers close each one), and on
    # bench.servers' figures as many or more requests/s than sync workers (README "Performance").
    assert (conf["worker_class"], conf["threads"]) == ("inventory_site.gunicorn_workers.TimedThreadWorker", 4) and conf[
        "keepalive"
    ] > 0
    assert 0 < conf["timeout"] <= 60
    conf = load_gunicorn_conf(monkeypatch, WEB_CONCURRENCY="3", PORT="9123", GUNICORN_THREADS="8")
    assert (conf["workers"], conf["bind"], conf["worker_class"], conf["threads"]) == (
        3,
        "0.0.0.0:9123",
        "inventory_site.gunicorn_workers.TimedThreadWorker",
        8,
    )
    conf = load_gunicorn_conf(monkeypatch, GUNICORN_THREADS="1")
    assert conf["worker_class"] == "sync"


def test_gunicorn_recycles_a_worker_rarely_and_not_all_at_once(monkeypatch):
    # After 2,000 requests, at 400 requests/s over 4 workers, a worker restarted every 5 s
    # somewhere (a whole application import each time) and the p99 under load reached 0.5-1.3 s.
    monkeypatch.delenv("GUNICORN_MAX_REQUESTS", raising=False)
    monkeypatch.delenv("GUNICORN_MAX_REQUESTS_JITTER", raising=False)
    conf = load_gunicorn_conf(monkeypatch)
    assert conf["max_requests"] >= 100_000 and conf["max_requests_jitter"] >= conf["max_requests"] // 20
    assert load_gunicorn_conf(monkeypatch, GUNICORN_MAX_REQUESTS="0")["max_requests"] == 0


def test_gunicorn_access_log_is_json_without_credentials(monkeypatch):
    from gunicorn.config import Config

    conf = load_gunicorn_conf(monkeypatch)
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = conf["JsonAccessLogger"](cfg)
    stream = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.setStream(stream)
    secret = uuid.uuid4().hex
    request = SimpleNamespace(
        headers=[
            ("AUTHORIZATION", f"Token {secret}"),
            ("COOKIE", f"sessionid={secret}"),
            ("USER-AGENT", 'evil "agent"\n'),
        ]
    )
    response = SimpleNamespace(status="201 Created", sent=17, headers=[("X-Request-ID", "req-1")])
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/api/v1/skus/",
        "PATH_INFO": "/api/v1/skus/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.9",
        "HTTP_AUTHORIZATION": f"Token {secret}",
        "HTTP_USER_AGENT": 'evil "agent"\n',
        "QUERY_STRING": "",
    }
    logger.access(response, request, environ, SimpleNamespace(seconds=0, microseconds=12_000))
    line = stream.getvalue().strip()
    assert secret not in line
    record = json.loads(line)
    assert record["method"] == "POST" and record["path"] == "/api/v1/skus/" and record["status"] == 201
    assert record["request_id"] == "req-1" and record["duration_ms"] == 12


# --- a real gunicorn with DEBUG off -----------------------------------------------------


@pytest.fixture(scope="module")
def static_server(tmp_path_factory, django_db_setup, django_db_blocker):
    """collectstatic into a fresh STATIC_ROOT (the production manifest storage), then gunicorn
    on the test database."""
    static_root = tmp_path_factory.mktemp("static")
    with django_db_blocker.unblock():
        url = database_url()
    result = run_manage("collectstatic", "--noinput", STATIC_ROOT=str(static_root), DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    with AppServer(database_url=url, workers=1, STATIC_ROOT=str(static_root)) as server:
        server.static_root = static_root
        yield server


def test_whitenoise_serves_collected_static_files_with_debug_off(static_server):
    manifest = json.loads((static_server.static_root / "staticfiles.json").read_text())["paths"]
    hashed = manifest["admin/css/base.css"]
    response = httpx.get(f"{static_server.url}/static/{hashed}")
    assert response.status_code == 200
    assert "max-age=315360000" in response.headers["cache-control"]  # hashed names are immutable
    compressed = httpx.get(f"{static_server.url}/static/{hashed}", headers={"Accept-Encoding": "gzip"})
    assert compressed.headers.get("content-encoding") == "gzip"
    # Pages link the hashed names, so the admin login and the API docs render with DEBUG off.
    login = httpx.get(f"{static_server.url}/admin/login/")
    assert login.status_code == 200 and f"/static/{hashed}" in login.text
    docs = httpx.get(f"{static_server.url}/api/docs/")
    assert docs.status_code == 200 and "/static/drf_spectacular_sidecar/" in docs.text
    assert httpx.get(f"{static_server.url}/static/no/such/file.css").status_code == 404


def test_security_headers_and_https_behind_the_proxy(static_server):
    plain = httpx.get(f"{static_server.url}/health/")
    assert plain.status_code == 200
    assert plain.headers["x-content-type-options"] == "nosniff"
    assert plain.headers["x-frame-options"] == "DENY"
    assert plain.headers["referrer-policy"] == "same-origin"
    assert plain.headers["cross-origin-opener-policy"] == "same-origin"
    assert "strict-transport-security" not in plain.headers  # not sent over plain HTTP
    assert plain.headers["x-request-id"]
    secure = httpx.get(f"{static_server.url}/health/", headers={"X-Forwarded-Proto": "https"})
    assert "max-age=31536000" in secure.headers["strict-transport-security"]
    login = httpx.get(f"{static_server.url}/admin/login/", headers={"X-Forwarded-Proto": "https"})
    cookie = login.headers.get("set-cookie", "")
    assert "csrftoken" in cookie and "Secure" in cookie


def test_debug_off_hides_tracebacks_and_unknown_hosts(static_server):
    response = httpx.get(f"{static_server.url}/api/v1/no-such-endpoint/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    evil = httpx.get(f"{static_server.url}/health/", headers={"Host": "evil.example"})
    assert evil.status_code == 400 and "Traceback" not in evil.text


@pytest.mark.django_db
def test_ssl_redirect_when_enabled_and_health_exempt(settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # a new client loads the middleware with the setting on
    redirect = client.get("/api/v1/schema/")
    assert redirect.status_code == 301 and redirect["Location"].startswith("https://")
    through_proxy = client.get("/api/v1/schema/?format=json", HTTP_X_FORWARDED_PROTO="https")
    assert through_proxy.status_code == 200
    # The load balancer probes /health/ over plain HTTP.
    assert client.get("/health/").status_code == 200
    assert client.get("/health").status_code == 200


def test_gunicorn_access_log_has_no_token(static_server):
    secret = uuid.uuid4().hex
    httpx.get(
        f"{static_server.url}/api/v1/schema/?format=json",
        headers={"Authorization": f"Token {secret}", "X-Request-ID": "probe-42"},
    )
    deadline = time.monotonic() + 5
    while True:  # gunicorn writes the access line just after the response: wait for it
        lines = [json.loads(line) for line in static_server.output().splitlines() if line.startswith("{")]
        access = [
            line for line in lines if line.get("logger") == "gunicorn.access" and line.get("request_id") == "probe-42"
        ]
        if access or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert access and access[0]["path"] == "/api/v1/schema/" and access[0]["status"] == 200
    assert secret not in static_server.output()
    # Everything the server writes (gunicorn's own messages too) is one JSON object per line.
    not_json = [line for line in static_server.output().splitlines() if line.strip() and not line.startswith("{")]
    assert not not_json, not_json[:5]


# --- the rate limit shared through Redis ---------------------------------------------------


def redis_cache():
    from django_redis.cache import RedisCache

    return RedisCache(REDIS_URL, {"OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"}})


THROTTLE_IN_A_PROCESS = """
import django; django.setup()
from types import SimpleNamespace
from inventory_site.api.throttling import RequestsPerMinuteThrottle
request = SimpleNamespace(user=SimpleNamespace(pk={pk}, is_authenticated=True), META={{}})
print(RequestsPerMinuteThrottle().allow_request(request, None))
"""


def _redis_up() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="needs Redis on 127.0.0.1:6379")
def test_rate_limit_count_is_shared_across_processes_through_redis(settings):
    """Workers are separate processes with their own cache clients: with `REDIS_URL` they
    share one count, so the limit holds for the whole deployment, not per worker."""
    from inventory_site.api.throttling import RequestsPerMinuteThrottle

    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 4
    pk = 10**9 + uuid.uuid4().int % 10**9  # a user id no real run uses
    request = SimpleNamespace(user=SimpleNamespace(pk=pk, is_authenticated=True), META={"REMOTE_ADDR": "10.0.0.1"})
    env = {"REDIS_URL": REDIS_URL, "RATE_LIMIT_REQUESTS_PER_MINUTE": "4", "DATABASE_URL": UNUSED_DATABASE}

    def other_process() -> bool:
        result = subprocess.run(
            [PYTHON, "-c", THROTTLE_IN_A_PROCESS.format(pk=pk)],
            cwd=BASE_DIR,
            env=production_env(**env),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip() == "True"

    workers = [redis_cache(), redis_cache()]
    key = RequestsPerMinuteThrottle().cache_format % {"scope": "requests", "ident": f"user:{pk}"}
    try:
        allowed = []
        for i in range(4):
            throttle = RequestsPerMinuteThrottle()
            throttle.cache = workers[i % 2]
            allowed.append(throttle.allow_request(request, None))
        allowed.append(other_process())
        assert allowed == [True, True, True, True, False]
        assert throttle.wait() > 0  # becomes Retry-After
    finally:
        workers[0].delete(key)


# --- structured logs -------------------------------------------------------------------------


@pytest.fixture
def json_log():
    """The JSON lines the configured console handler writes during the test."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter))
    stream = io.StringIO()
    old = handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    handler.setStream(old)


@pytest.mark.django_db
def test_logs_are_json_with_the_request_id(client, json_log):
    response = client.get("/api/v1/no-such-thing/", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    records = json_log()
    assert records, "a 404 is logged by django.request"
    record = records[-1]
    assert record["request_id"] == "abc-123" and record["level"] == "WARNING"
    assert {"time", "logger", "message"} <= record.keys()


@pytest.mark.django_db
def test_unsafe_request_id_is_replaced(client):
    response = client.get("/health/", HTTP_X_REQUEST_ID="evil\nid with spaces")
    assert response["X-Request-ID"] != "evil\nid with spaces"
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_tokens_never_reach_the_log(json_log, settings):
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 0
    user = UserFactory(is_superuser=True)
    client = token_client(user)
    key = client._credentials["HTTP_AUTHORIZATION"].split()[1]
    client.get("/api/v1/no-such-thing/")
    client.post("/api/v1/no-such-thing/", {"password": "hunter2"}, format="json")
    forged = uuid.uuid4().hex
    anon = type(client)()
    anon.credentials(HTTP_AUTHORIZATION=f"Token {forged}")
    for path in ("/api/v1/no-such-thing/", "/api/v1/schema/"):
        anon.get(path)
    logging.getLogger("inventory_site.api").warning(
        "request failed", extra={"authorization": f"Token {key}", "token": key}
    )
    text = json.dumps(json_log())
    assert json_log(), "requests above are logged"
    assert key not in text and forged not in text and "hunter2" not in text


def test_json_formatter_drops_secret_extras_and_keeps_the_rest():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    record.authorization = "Token abc"
    record.password = "p"
    record.status_code = 200
    record.request = RequestFactory().get("/api/v1/skus/", HTTP_AUTHORIZATION="Token abc")
    out = json.loads(JsonFormatter().format(record))
    assert out["message"] == "hello world" and out["status_code"] == 200
    assert "Token abc" not in json.dumps(out) and "password" not in out


@pytest.mark.django_db
def test_lost_redis_fails_open_without_hanging(settings, api):
    """Redis down: the rate limit stops counting, requests are still served, quickly."""
    from tests.reliability.server import free_port

    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = production_settings("CACHES", REDIS_URL=dead, DATABASE_URL=UNUSED_DATABASE)["CACHES"]
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 2
    started = time.monotonic()
    statuses = [api.get("/api/v1/warehouses/").status_code for _ in range(4)]
    assert statuses == [200] * 4
    assert time.monotonic() - started < 5


@pytest.mark.django_db
def test_unhandled_error_is_an_enveloped_500_without_traceback(api, json_log, monkeypatch):
    from stock.api import views as stock_views

    view = next(
        v
        for v in vars(stock_views).values()
        if isinstance(v, type) and getattr(v, "__name__", "") == "WarehouseViewSet"
    )

    def explode(self, request, *args, **kwargs):
        raise ValueError("secret internals: SELECT * FROM auth_user")

    monkeypatch.setattr(view, "list", explode)
    api.raise_request_exception = False
    response = api.get("/api/v1/warehouses/", HTTP_X_REQUEST_ID="boom-1")
    assert response.status_code == 500
    assert response.json() == {
        "status": "error",
        "data": None,
        "message": "Internal server error.",
        "code": "server_error",
        "errors": None,
    }
    assert b"SELECT" not in response.content and b"Traceback" not in response.content
    logged = [r for r in json_log() if r.get("request_id") == "boom-1" and r["level"] == "ERROR"]
    assert logged and "ValueError" in logged[0]["exc_info"]  # the operator sees it, the client does not
