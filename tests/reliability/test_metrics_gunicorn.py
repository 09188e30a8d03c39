"""Metrics and health under the production server: gunicorn with 2 workers, metrics in
multiprocess mode (`PROMETHEUS_MULTIPROC_DIR`), the database behind a proxy a test can cut.

Every scrape, whichever worker answers it, must report the requests of both workers.
"""

import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.authtoken.models import Token

from stock.models import Warehouse
from stock.services import stock_receive
from tests.factories import UserFactory
from tests.reliability.server import AppServer, TcpProxy
from tests.stock.factories import SKUFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
METRICS_TOKEN = "scrape-me-0123456789"
REQUESTS = 40


def total(text: str, name: str, **labels: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_metrics_add_up_all_workers_and_readiness_follows_the_database():
    Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main warehouse", "is_default": True})
    stock_receive(sku=SKUFactory(sku_code="MUG-BLUE"), quantity=5)
    token = Token.objects.create(user=UserFactory(username="ops", is_superuser=True)).key
    db = connection.settings_dict
    proxy = TcpProxy()
    proxy.start()
    folder = Path(tempfile.mkdtemp(prefix="metrics-test-"))
    (folder / "counter_999999.db").write_bytes(b"left by an earlier run")  # must be cleared at start
    try:
        with AppServer(
            database_url=f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}",
            workers=2,
            RATE_LIMIT_REQUESTS_PER_MINUTE="0",
            PROMETHEUS_MULTIPROC_DIR=str(folder),
            METRICS_TOKEN=METRICS_TOKEN,
            METRICS_ALLOWED_IPS="192.0.2.1",
            GUNICORN_MAX_REQUESTS="0",
        ) as server:
            auth = {"Authorization": f"Token {token}"}
            # Parallel requests, each on a new connection, keep both sync workers busy.
            with ThreadPoolExecutor(8) as pool:
                answers = list(
                    pool.map(
                        lambda _: httpx.get(f"{server.url}/api/v1/skus/", headers=auth, timeout=10), range(REQUESTS)
                    )
                )
            assert all(a.status_code == 200 for a in answers)
            created = httpx.post(
                f"{server.url}/api/v1/stock/reservations/",
                headers=auth,
                timeout=10,
                json={"reference": "O-1", "lines": [{"sku_code": "MUG-BLUE", "quantity": 2}]},
            )
            assert created.status_code == 201

            pids = {int(m.group(1)) for p in folder.glob("*.db") if (m := re.match(r"\w+?_(\d+)\.db$", p.name))}
            assert 999999 not in pids
            assert len(pids) >= 2, f"one worker answered everything: {sorted(pids)}"

            assert httpx.get(f"{server.url}/metrics", timeout=10).status_code == 403  # 127.0.0.1 not allowed here
            scrapes = [
                httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
                for _ in range(6)
            ]
            assert all(s.status_code == 200 for s in scrapes)
            for scrape in scrapes:
                text = scrape.text
                assert (
                    total(text, "inventory_http_requests_total", route="sku-list", method="GET", status="200")
                    == REQUESTS
                )
                assert total(text, "inventory_http_request_duration_seconds_count", route="sku-list") == REQUESTS
                assert total(text, "inventory_db_queries_per_request_count", route="sku-list") == REQUESTS
                assert total(text, "inventory_reservations_total", outcome="created") == 1

            # Readiness follows the database; liveness does not. Without CELERY_BROKER_URL or
            # REDIS_URL the server uses the embedded file broker, whose folder is there: "ok".
            proxy.cut()
            assert httpx.get(f"{server.url}/health/live/", timeout=10).status_code == 200
            down = httpx.get(f"{server.url}/health/ready/", timeout=20)
            assert down.status_code == 503
            assert down.json() == {"status": "not_ready", "database": "unavailable", "cache": "ok", "broker": "ok"}
            proxy.restore()
            for _ in range(20):
                up = httpx.get(f"{server.url}/health/ready/", timeout=10)
                if up.status_code == 200:
                    break
            assert up.json() == {"status": "ready", "database": "ok", "cache": "ok", "broker": "ok"}
    finally:
        proxy.close()
