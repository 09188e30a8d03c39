"""The request time limit holds for every worker class gunicorn.conf.py ships: the threaded
worker (GUNICORN_THREADS > 1) and sync workers (GUNICORN_THREADS=1).

A real gunicorn with the production settings and `GUNICORN_TIMEOUT=3`, and a request that
would run far longer: the catalog's import preview of 20,000 SKU rows (kept in the request by
a high `ADMIN_SYNC_IMPORT_ROWS`). It must end within the timeout and the grace (a 503, or the
connection closed when the worker is replaced), and the server must serve the next request.
"""

import subprocess
import sys
import time

import httpx
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.urls import reverse

from inventory_site.gunicorn_workers import GRACE_SECONDS
from tests.factories import UserFactory
from tests.reliability.server import BASE_DIR, AppServer, admin_session, database_url, production_env

TIMEOUT = 3
ROWS = 20_000

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def static_root(tmp_path_factory, django_db_setup, django_db_blocker):
    root = tmp_path_factory.mktemp("static")
    with django_db_blocker.unblock():
        env = production_env(STATIC_ROOT=str(root), DATABASE_URL=database_url())
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    return root


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("threads", ["4", "1"], ids=["threaded", "sync"])
def test_a_request_that_runs_too_long_is_ended(static_root, threads):
    user = UserFactory(username="time-limit", is_superuser=True, is_staff=True)
    user.password = PBKDF2PasswordHasher().encode("pw-time-limit-1", "timelimitsalt")
    user.save()
    sheet = "sku_code,category_path,product,price,attributes\n" + "".join(
        f"TL-{i:06d},Limits/Slow,Slow product {i},10.00,\n" for i in range(ROWS)
    )
    with AppServer(
        database_url=database_url(),
        workers=1,
        STATIC_ROOT=str(static_root),
        GUNICORN_THREADS=threads,
        GUNICORN_TIMEOUT=str(TIMEOUT),
        GUNICORN_GRACEFUL_TIMEOUT="2",
        RATE_LIMIT_REQUESTS_PER_MINUTE="0",
        ADMIN_SYNC_IMPORT_ROWS="1000000",
        ADMIN_SYNC_IMPORT_BYTES=str(4 * 1024 * 1024),
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
    ) as server:
        browser = admin_session(server, username="time-limit", password="pw-time-limit-1")
        path = reverse("admin:catalog_sku_import")
        started = time.monotonic()
        try:
            response = browser.post(
                path,
                data={"csrfmiddlewaretoken": browser.cookies["csrftoken"], "format": "0", "resource": "0"},
                files={"import_file": ("slow.csv", sheet.encode(), "text/csv")},
                headers={"Referer": server.url + path},
            )
            outcome = response.status_code
        except httpx.RemoteProtocolError:  # the worker was replaced mid-request
            outcome = "closed"
        took = time.monotonic() - started
        print(f"{'threaded' if threads != '1' else 'sync'} worker, timeout {TIMEOUT}s: {outcome} after {took:.1f}s")
        assert outcome in (503, "closed"), f"{outcome} after {took:.1f}s\n{server.output()[-4000:]}"
        assert took < TIMEOUT + GRACE_SECONDS + 5, f"ran {took:.1f}s with a {TIMEOUT}s timeout"
        deadline = time.monotonic() + 30
        while True:  # served again (by the same worker, or by the one that replaced it)
            try:
                if httpx.get(f"{server.url}/health/live/", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, server.output()[-3000:]
            time.sleep(0.2)
        browser.close()
