"""Delivery through a real Celery worker process to a real receiver on 127.0.0.1."""

import json

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from events.models import WebhookDelivery, WebhookSubscription
from tests.events.receiver import wait_for
from tests.events.worker import Worker
from tests.reliability.server import database_url

pytestmark = [pytest.mark.slow]


def _subscribe(api, receiver, events=("stock.*",)) -> dict:
    response = api.post("/api/v1/webhooks/", {"url": receiver.url, "events": list(events)}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def test_ping_is_delivered_signed_per_standard_webhooks(worker, receiver, api):
    subscription = _subscribe(api, receiver)
    response = api.post(f"/api/v1/webhooks/{subscription['id']}/ping/")
    assert response.status_code == 202
    event_id = response.json()["data"]["event_id"]

    wait_for(lambda: receiver.received, timeout=30)
    hit = receiver.received[0]
    body = json.loads(hit.body)
    assert body["id"] == event_id == hit.headers["webhook-id"]
    assert body["type"] == "webhook.ping"
    assert hit.headers["content-type"] == "application/json"
    # The independent implementation accepts the signature ...
    assert Webhook(subscription["secret"]).verify(hit.body, hit.headers)["id"] == event_id
    # ... and refuses a tampered body or another secret.
    with pytest.raises(WebhookVerificationError):
        Webhook(subscription["secret"]).verify(hit.body.replace(b"ping", b"pong"), hit.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(hit.body, hit.headers)
    delivery = WebhookDelivery.objects.get(subscription_id=subscription["id"])
    wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "delivered")
    log = api.get(f"/api/v1/webhooks/{subscription['id']}/deliveries/").json()
    assert log["data"][0]["event_id"] == event_id
    assert log["data"][0]["status"] == "delivered"
    assert log["data"][0]["attempts"] == 1
    assert log["data"][0]["last_status_code"] == 200


def test_a_rotated_secret_signs_with_both_for_a_day(worker, receiver, api):
    subscription = _subscribe(api, receiver)
    rotated = api.post(f"/api/v1/webhooks/{subscription['id']}/rotate-secret/").json()["data"]
    assert rotated["secret"] != subscription["secret"]
    api.post(f"/api/v1/webhooks/{subscription['id']}/ping/")
    wait_for(lambda: receiver.received)
    hit = receiver.received[0]
    assert len(hit.headers["webhook-signature"].split(" ")) == 2
    Webhook(subscription["secret"]).verify(hit.body, hit.headers)
    Webhook(rotated["secret"]).verify(hit.body, hit.headers)


def test_a_failing_receiver_gets_the_event_once_it_recovers(worker, receiver, api):
    receiver.behaviour.status = 503
    subscription = _subscribe(api, receiver)
    api.post(f"/api/v1/webhooks/{subscription['id']}/ping/")
    delivery = wait_for(
        lambda: WebhookDelivery.objects.filter(subscription_id=subscription["id"], attempts__gte=1).first()
    )
    assert delivery.status == "pending"
    assert delivery.last_status_code == 503
    assert WebhookSubscription.objects.get(pk=subscription["id"]).failing_since is not None
    # The first retry is due in about 10 s (8-12 with jitter).
    wait_seconds = (delivery.next_attempt_at - delivery.first_attempt_at).total_seconds()
    assert 8 <= wait_seconds <= 12
    receiver.behaviour.status = 200
    wait_for(lambda: receiver.received, timeout=40)
    delivery.refresh_from_db()
    wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "delivered")
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert WebhookSubscription.objects.get(pk=subscription["id"]).failing_since is None


def test_410_gone_deactivates_the_subscription(worker, receiver, api):
    receiver.behaviour.status = 410
    subscription = _subscribe(api, receiver)
    api.post(f"/api/v1/webhooks/{subscription['id']}/ping/")
    wait_for(lambda: not WebhookSubscription.objects.get(pk=subscription["id"]).is_active)
    data = api.get(f"/api/v1/webhooks/{subscription['id']}/").json()["data"]
    assert data["is_active"] is False
    assert "410" in data["deactivated_reason"]
    assert WebhookDelivery.objects.get(subscription_id=subscription["id"]).status == "failed"


def test_without_redis_the_embedded_file_broker_delivers_a_ping(
    transactional_db, allow_local_webhooks, receiver, api, tmp_path
):
    """What `make run` does on a fresh machine: no REDIS_URL, no CELERY_BROKER_URL."""
    env = {
        "DEBUG": "true",
        "SECRET_KEY": "x",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "CELERY_FILESYSTEM_BROKER_DIR": str(tmp_path / "broker"),
    }
    with Worker(database_url=database_url(), settings_module="inventory_site.settings", **env):
        subscription = _subscribe(api, receiver, events=["catalog.*"])
        api.post(f"/api/v1/webhooks/{subscription['id']}/ping/")
        wait_for(lambda: receiver.received, timeout=30)
    assert json.loads(receiver.received[0].body)["type"] == "webhook.ping"
