"""Delivery rules without a worker: backoff, giving up, deactivation after 3 days, the admin."""

import datetime

import pytest
from django.utils import timezone

from events.models import WebhookDelivery, WebhookSubscription
from events.services import delivery_attempt, events_sequence, webhook_create, webhook_ping
from events.services.deliveries import backoff
from tests.events.receiver import Receiver


@pytest.mark.parametrize(
    "attempts, seconds", [(1, 10), (2, 60), (3, 300), (4, 1800), (5, 7200), (6, 21600), (7, 43200), (20, 43200)]
)
def test_backoff_follows_the_schedule_with_jitter(attempts, seconds):
    waits = {backoff(attempts).total_seconds() for _ in range(50)}
    assert all(0.8 * seconds <= w <= 1.2 * seconds for w in waits)
    assert len(waits) > 1  # jittered


def _failing_delivery(receiver) -> tuple[WebhookSubscription, int]:
    subscription = webhook_create(url=receiver.url, events=["*"])
    webhook_ping(subscription=subscription)
    [delivery_id] = events_sequence().delivery_ids
    return subscription, delivery_id


def test_three_days_of_failures_fail_the_delivery_and_deactivate_with_a_reason(db, allow_local_webhooks):
    with Receiver() as receiver:
        receiver.behaviour.status = 500
        subscription, delivery_id = _failing_delivery(receiver)
        assert delivery_attempt(delivery_id=delivery_id).outcome == "retry"
        long_ago = timezone.now() - datetime.timedelta(days=3, minutes=1)
        WebhookDelivery.objects.filter(pk=delivery_id).update(first_attempt_at=long_ago, next_attempt_at=long_ago)
        WebhookSubscription.objects.filter(pk=subscription.pk).update(failing_since=long_ago)
        assert delivery_attempt(delivery_id=delivery_id).outcome == "failed"
    subscription.refresh_from_db()
    assert subscription.is_active is False
    assert "3 days" in subscription.deactivated_reason and "HTTP 500" in subscription.deactivated_reason


def test_a_connection_refused_is_recorded_and_retried(db, allow_local_webhooks):
    receiver = Receiver().up()
    receiver.down()  # the port is free again: connection refused
    _, delivery_id = _failing_delivery(receiver)
    assert delivery_attempt(delivery_id=delivery_id).outcome == "retry"
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    assert "ConnectionRefused" in delivery.last_error
    assert delivery.status == "pending" and delivery.next_attempt_at > timezone.now()


def test_a_slow_receiver_times_out_and_is_retried(db, allow_local_webhooks, monkeypatch):
    monkeypatch.setattr("events.transport.TIMEOUT_SECONDS", 0.5)
    with Receiver() as receiver:
        receiver.behaviour.delay = 2
        _, delivery_id = _failing_delivery(receiver)
        assert delivery_attempt(delivery_id=delivery_id).outcome == "retry"
    assert "timed out" in WebhookDelivery.objects.get(pk=delivery_id).last_error


def test_admin_screens_list_subscriptions_and_the_delivery_log(admin_client, allow_local_webhooks):
    with Receiver() as receiver:
        subscription, delivery_id = _failing_delivery(receiver)
        assert delivery_attempt(delivery_id=delivery_id).outcome == "delivered"
    assert receiver.url in admin_client.get("/admin/events/webhooksubscription/").content.decode()
    log = admin_client.get(
        f"/admin/events/webhookdelivery/?status__exact=delivered&subscription__id__exact={subscription.pk}"
    )
    assert log.status_code == 200 and "webhook.ping" in log.content.decode()
    response = admin_client.post(
        "/admin/events/webhookdelivery/",
        {"action": "redeliver_selected", "_selected_action": [delivery_id]},
        follow=True,
    )
    assert "queued again" in response.content.decode()
    assert WebhookDelivery.objects.get(pk=delivery_id).status == "pending"
    assert admin_client.get("/admin/events/event/").status_code == 200


def test_admin_refuses_a_private_url(admin_client):
    response = admin_client.post(
        "/admin/events/webhooksubscription/add/",
        {"url": "https://10.0.0.1/hook", "events": "stock.*", "description": "", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "private" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_admin_refuses_an_event_type_that_matches_nothing(admin_client):
    response = admin_client.post(
        "/admin/events/webhooksubscription/add/",
        {"url": "https://93.184.215.14/hook", "events": "stock.*, no.such.event", "description": "", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "Matches no event type: &#x27;no.such.event&#x27;" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_admin_creates_through_the_service_and_shows_the_secret_once(admin_client):
    response = admin_client.post(
        "/admin/events/webhooksubscription/add/",
        {"url": "https://93.184.215.14/hook", "events": "stock.*, catalog.sku.*", "description": "", "is_active": "on"},
        follow=True,
    )
    subscription = WebhookSubscription.objects.get()
    assert subscription.events == ["stock.*", "catalog.sku.*"]
    assert subscription.secret.startswith("whsec_") and subscription.secret in response.content.decode()
