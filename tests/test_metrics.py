"""`/metrics`: who may read it, and what it counts (requests per route, latency, queries,
reservations, adjustments, the webhook seam). Multiprocess mode under gunicorn is in
tests/reliability/test_metrics_gunicorn.py."""

from datetime import timedelta

import pytest
from django.db import connection, reset_queries, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from inventory_site import metrics
from stock.models import Warehouse
from stock.services import stock_receive
from tests.stock.factories import SKUFactory


def scrape(client, **extra) -> str:
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return response.content.decode()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the scrape (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


class Delta:
    """`delta = Delta(client)`; ...; `delta("name", label=...)`: how much a sample grew since."""

    def __init__(self, client):
        self.client, self.before = client, scrape(client)

    def __call__(self, name: str, **labels: str) -> float:
        return sample(scrape(self.client), name, **labels) - sample(self.before, name, **labels)


@pytest.fixture
def stocked(db):
    Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main warehouse", "is_default": True})
    sku = SKUFactory(sku_code="MUG-BLUE")
    stock_receive(sku=sku, quantity=5, reference="PO-1")
    return sku


# --- Who may read it ----------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_are_served_to_localhost_only_by_default(client):
    assert "inventory_http_requests_total" in scrape(client)
    assert client.get("/metrics/", REMOTE_ADDR="::1").status_code == 200
    refused = client.get("/metrics", REMOTE_ADDR="10.1.2.3")
    assert refused.status_code == 403
    assert b"inventory_" not in refused.content


@pytest.mark.django_db
def test_allowed_networks_and_malformed_entries(client, settings):
    settings.METRICS_ALLOWED_IPS = ["not-an-ip", "10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert client.post("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 405


@pytest.mark.django_db
def test_bearer_token_opens_metrics_from_any_address(client, settings):
    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 401 and wrong["WWW-Authenticate"].startswith("Bearer")
    right = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert right.status_code == 200 and b"inventory_http_requests_total" in right.content


@pytest.mark.django_db
def test_a_token_is_refused_when_none_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 401


# --- Per request --------------------------------------------------------------------


@pytest.mark.django_db
def test_requests_and_latency_per_route_and_status(api, client, stocked):
    delta = Delta(client)
    assert api.get("/api/v1/skus/").status_code == 200
    assert api.get("/api/v1/skus/", {"sku_code": "MUG-BLUE"}).status_code == 200
    assert api.get("/api/v1/skus/999999/").status_code == 404
    assert api.get("/api/v1/no-such-thing/").status_code == 404
    assert delta("inventory_http_requests_total", route="sku-list", method="GET", status="200") == 2
    assert delta("inventory_http_requests_total", route="sku-detail", method="GET", status="404") == 1
    assert delta("inventory_http_request_duration_seconds_count", route="sku-list", method="GET") == 2
    assert delta("inventory_http_request_duration_seconds_sum", route="sku-list", method="GET") > 0
    # Raw paths never become labels (an attacker could make any number of them).
    routes = {
        s.labels["route"]
        for family in text_string_to_metric_families(scrape(client))
        for s in family.samples
        if "route" in s.labels
    }
    assert {"sku-list", "sku-detail"} <= routes
    assert not [r for r in routes if "/" in r or "no-such-thing" in r or "999999" in r]
    assert (
        delta("inventory_http_requests_total", route="inventory_site.errors.api_not_found", method="GET", status="404")
        == 1
    )


@pytest.mark.django_db
def test_database_queries_per_request(api, client, stocked):
    delta = Delta(client)
    reset_queries()  # each request empties the query log (request_started): start it empty
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/stock/levels/").status_code == 200
    ran = len(queries)  # read now: the scrapes below empty the log again
    assert ran > 0
    assert delta("inventory_db_queries_per_request_count", route="stocklevel-list") == 1
    assert delta("inventory_db_queries_per_request_sum", route="stocklevel-list") == ran


# --- What the stock services count ----------------------------------------------------


@pytest.mark.django_db
def test_reservations_created_refused_committed_released_expired(
    api, client, stocked, monkeypatch, django_capture_on_commit_callbacks
):
    delta = Delta(client)
    url = "/api/v1/stock/reservations/"
    with django_capture_on_commit_callbacks(execute=True):
        one = api.post(url, {"reference": "O-1", "lines": [{"sku_code": "MUG-BLUE", "quantity": 1}]}, format="json")
        two = api.post(url, {"reference": "O-2", "lines": [{"sku_code": "MUG-BLUE", "quantity": 1}]}, format="json")
        three = api.post(
            url,
            {"reference": "O-3", "ttl_seconds": 60, "lines": [{"sku_code": "MUG-BLUE", "quantity": 1}]},
            format="json",
        )
        short = api.post(url, {"reference": "O-4", "lines": [{"sku_code": "MUG-BLUE", "quantity": 50}]}, format="json")
        bad = api.post(url, {"reference": "O-5", "lines": [{"sku_code": "NOPE", "quantity": 1}]}, format="json")
        assert [r.status_code for r in (one, two, three, short, bad)] == [201, 201, 201, 409, 400]
        assert api.post(f"{url}{one.json()['data']['id']}/commit/").status_code == 200
        assert api.post(f"{url}{two.json()['data']['id']}/release/").status_code == 200
        moment = timezone.now() + timedelta(seconds=120)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        assert api.post(f"{url}{three.json()['data']['id']}/commit/").status_code == 409  # expired
    assert delta("inventory_reservations_total", outcome="created") == 3
    assert delta("inventory_reservations_total", outcome="refused") == 1  # the 400 is not a refusal
    assert delta("inventory_reservations_total", outcome="committed") == 1
    assert delta("inventory_reservations_total", outcome="released") == 1
    assert delta("inventory_reservations_total", outcome="expired") == 1


@pytest.mark.django_db
def test_stock_adjustments_by_reason(api, client, stocked, django_capture_on_commit_callbacks):
    delta = Delta(client)
    url = "/api/v1/stock/adjustments/"
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            api.post(url, {"sku_code": "MUG-BLUE", "delta": -1, "reason": "damage"}, format="json").status_code == 201
        )
        bulk = {
            "lines": [
                {"sku_code": "MUG-BLUE", "delta": 4, "reason": "receipt"},
                {"sku_code": "MUG-BLUE", "quantity": 7, "reason": "count"},
            ]
        }
        assert api.post(f"{url}bulk/", bulk, format="json").status_code == 201
        refused = {"sku_code": "MUG-BLUE", "delta": -100, "reason": "loss"}
        assert api.post(url, refused, format="json").status_code == 409
    assert delta("inventory_stock_adjustments_total", reason="damage") == 1
    assert delta("inventory_stock_adjustments_total", reason="receipt") == 1
    assert delta("inventory_stock_adjustments_total", reason="count") == 1
    assert delta("inventory_stock_adjustments_total", reason="loss") == 0  # nothing written, nothing counted


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_adjustment_counts_nothing(client):
    Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main warehouse", "is_default": True})
    sku = SKUFactory(sku_code="MUG-RED")
    delta = Delta(client)
    with pytest.raises(RuntimeError), transaction.atomic():
        stock_receive(sku=sku, quantity=3, reason="return", reference="RMA-1")
        raise RuntimeError("the caller's transaction fails after the adjustment")
    stock_receive(sku=sku, quantity=2, reason="correction")
    assert delta("inventory_stock_adjustments_total", reason="return") == 0
    assert delta("inventory_stock_adjustments_total", reason="correction") == 1


@pytest.mark.django_db
def test_webhook_delivery_seam(client):
    delta = Delta(client)
    metrics.webhook_delivery(outcome="delivered", seconds=0.2)
    metrics.webhook_delivery(outcome="failed")
    assert delta("inventory_webhook_deliveries_total", outcome="delivered") == 1
    assert delta("inventory_webhook_deliveries_total", outcome="failed") == 1
    assert delta("inventory_webhook_delivery_duration_seconds_count") == 1
