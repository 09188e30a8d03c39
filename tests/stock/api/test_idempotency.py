"""Idempotency-Key on the four stock POSTs."""

import json

import pytest

from stock.models import IdempotencyRecord, Reservation, StockLevel, StockMovement
from stock.services import request_fingerprint
from tests.conftest import token_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
ADJUST = "/api/v1/stock/adjustments/"


def adjust(client, sku, key, delta=1):
    return client.post(
        ADJUST, {"sku_code": sku.sku_code, "delta": delta, "reason": "receipt"}, HTTP_IDEMPOTENCY_KEY=key
    )


def test_retried_ten_times_applies_once(api, stocked):
    responses = [adjust(api, stocked, "key-1") for _ in range(10)]
    assert {r.status_code for r in responses} == {201}
    assert "Idempotent-Replayed" not in responses[0]
    assert all(r["Idempotent-Replayed"] == "true" for r in responses[1:])
    assert all(r.json() == responses[0].json() for r in responses)
    assert StockLevel.objects.get().on_hand == 11 and StockMovement.objects.count() == 2


def test_key_order_does_not_matter(api, stocked):
    api.post(ADJUST, {"sku_code": stocked.sku_code, "delta": 1, "reason": "receipt"}, HTTP_IDEMPOTENCY_KEY="k")
    response = api.post(
        ADJUST, {"reason": "receipt", "delta": 1, "sku_code": stocked.sku_code}, HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 201 and response["Idempotent-Replayed"] == "true"


def test_other_body_is_422(api, stocked):
    adjust(api, stocked, "key-2")
    response = adjust(api, stocked, "key-2", delta=2)
    assert response.status_code == 422 and response.json()["code"] == "idempotency_key_reused"
    assert StockLevel.objects.get().on_hand == 11


def test_other_endpoint_same_key_is_422(api, stocked):
    adjust(api, stocked, "key-3")
    response = api.post(
        "/api/v1/stock/reservations/",
        {"reference": "O", "lines": [{"sku_code": stocked.sku_code, "quantity": 1}]},
        HTTP_IDEMPOTENCY_KEY="key-3",
    )
    assert response.status_code == 422


def test_in_use_is_409(api, superuser, stocked):
    IdempotencyRecord.objects.create(user=superuser, key="busy", request_fingerprint="x")
    response = adjust(api, stocked, "busy")
    assert response.status_code == 422  # other fingerprint
    body = json.dumps(
        {"delta": 1, "reason": "receipt", "sku_code": stocked.sku_code}, sort_keys=True, separators=(",", ":")
    )
    IdempotencyRecord.objects.filter(key="busy").update(
        request_fingerprint=request_fingerprint(method="POST", path=ADJUST, body=body.encode())
    )
    response = adjust(api, stocked, "busy")
    assert response.status_code == 409 and response.json()["code"] == "idempotency_key_in_use"
    assert StockLevel.objects.get().on_hand == 10


def test_keys_are_per_user(api, stocked):
    adjust(api, stocked, "shared")
    other = token_client(UserFactory(is_superuser=True))
    response = adjust(other, stocked, "shared")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert StockLevel.objects.get().on_hand == 12


def test_errors_below_500_are_replayed(api, stocked):
    first = adjust(api, stocked, "neg", delta=-50)
    assert first.status_code == 409
    adjust(api, stocked, "refill", delta=100)
    second = adjust(api, stocked, "neg", delta=-50)
    assert second.status_code == 409 and second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()


def test_5xx_not_stored(api, stocked, monkeypatch):
    from stock import services

    def boom(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "stock_adjust", boom)
    assert adjust(api, stocked, "flaky").status_code == 500
    assert not IdempotencyRecord.objects.exists()
    monkeypatch.undo()
    response = adjust(api, stocked, "flaky")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "ünicode"])
def test_malformed_key(api, stocked, key):
    response = adjust(api, stocked, key)
    assert response.status_code == 400 and response.json()["code"] == "validation_error"
    assert StockLevel.objects.get().on_hand == 10


def test_all_four_endpoints(api, stocked, other):
    requests = [
        (
            "/api/v1/stock/adjustments/bulk/",
            {"lines": [{"sku_code": stocked.sku_code, "delta": 1, "reason": "receipt"}]},
        ),
        (
            "/api/v1/stock/transfers/",
            {"sku_code": stocked.sku_code, "from_warehouse": "MAIN", "to_warehouse": "EAST", "quantity": 1},
        ),
        ("/api/v1/stock/reservations/", {"reference": "O", "lines": [{"sku_code": stocked.sku_code, "quantity": 1}]}),
    ]
    for n, (url, body) in enumerate(requests):
        first = api.post(url, body, HTTP_IDEMPOTENCY_KEY=f"k{n}")
        second = api.post(url, body, HTTP_IDEMPOTENCY_KEY=f"k{n}")
        assert first.status_code == second.status_code == 201 and second["Idempotent-Replayed"] == "true"
        assert first.json() == second.json()
    assert StockMovement.objects.count() == 4 and Reservation.objects.count() == 1


def test_failure_to_store_the_response_applies_nothing(api, stocked, monkeypatch):
    """The action and its stored response commit together: if storing fails, the stock
    change is rolled back too, so a retry with the same key applies it exactly once."""
    from django.db import OperationalError

    from stock.api.idempotency import STORE

    def broken_complete(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(STORE, "complete", broken_complete)
    response = adjust(api, stocked, "store-fails", delta=5)
    assert response.status_code == 503 and response.json()["code"] == "service_unavailable"
    assert StockLevel.objects.get().on_hand == 10 and StockMovement.objects.count() == 1
    assert not IdempotencyRecord.objects.filter(key="store-fails").exists()

    monkeypatch.undo()
    retried = adjust(api, stocked, "store-fails", delta=5)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert StockLevel.objects.get().on_hand == 15 and StockMovement.objects.count() == 2


def _claim_left_by_a_dead_request(user, sku, key: str, age_seconds: int) -> IdempotencyRecord:
    from datetime import timedelta

    from django.utils import timezone

    body = json.dumps(
        {"delta": 1, "reason": "receipt", "sku_code": sku.sku_code}, sort_keys=True, separators=(",", ":")
    )
    return IdempotencyRecord.objects.create(
        user=user,
        key=key,
        created_at=timezone.now() - timedelta(seconds=age_seconds),
        request_fingerprint=request_fingerprint(method="POST", path=ADJUST, body=body.encode()),
    )


def test_claim_of_a_dead_request_is_taken_over(api, superuser, stocked):
    """A claim with no response and no request holding its lock (its connection was cut) does
    not block the key for ABANDONED_AFTER: the retry runs, once."""
    _claim_left_by_a_dead_request(superuser, stocked, "orphan", age_seconds=30)
    response = adjust(api, stocked, "orphan")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert StockLevel.objects.get().on_hand == 11
    assert adjust(api, stocked, "orphan")["Idempotent-Replayed"] == "true"
    assert StockLevel.objects.get().on_hand == 11


@pytest.mark.django_db(transaction=True)
def test_claim_held_by_a_running_request_stays_in_use(api, superuser, stocked):
    """While another connection holds the claim's lock (its request still runs), the key is in use."""
    import threading

    from django.db import connection, transaction

    from stock.services import idempotency_hold

    claim = _claim_left_by_a_dead_request(superuser, stocked, "running", age_seconds=30)
    held, release = threading.Event(), threading.Event()

    def running_request():
        with transaction.atomic():
            idempotency_hold(record=claim)
            held.set()
            release.wait(10)
        connection.close()

    worker = threading.Thread(target=running_request)
    worker.start()
    try:
        assert held.wait(10)
        response = adjust(api, stocked, "running")
        assert response.status_code == 409 and response.json()["code"] == "idempotency_key_in_use"
    finally:
        release.set()
        worker.join()
    assert StockLevel.objects.get().on_hand == 10
