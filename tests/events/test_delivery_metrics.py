"""Delivery outcomes on /metrics: each attempt counted once its outcome is committed."""

import datetime

from django.utils import timezone

from events.models import WebhookDelivery
from events.services import deliveries_send_due, delivery_attempt, events_sequence, webhook_create, webhook_ping
from tests.events.receiver import Receiver
from tests.test_metrics import Delta

DELIVERIES = "inventory_webhook_deliveries_total"
LATENCY = "inventory_webhook_delivery_duration_seconds_count"


def _queued_ping(receiver) -> int:
    subscription = webhook_create(url=receiver.url, events=["*"])
    webhook_ping(subscription=subscription)
    [delivery_id] = events_sequence().delivery_ids
    return delivery_id


def test_delivered_failed_and_dead_attempts_are_counted(
    client, db, allow_local_webhooks, django_capture_on_commit_callbacks
):
    delta = Delta(client)
    with Receiver() as receiver:
        delivery_id = _queued_ping(receiver)
        receiver.behaviour.status = 503
        with django_capture_on_commit_callbacks(execute=True):
            assert delivery_attempt(delivery_id=delivery_id).outcome == "retry"
        long_ago = timezone.now() - datetime.timedelta(days=3, minutes=1)
        WebhookDelivery.objects.filter(pk=delivery_id).update(first_attempt_at=long_ago, next_attempt_at=long_ago)
        with django_capture_on_commit_callbacks(execute=True):
            assert delivery_attempt(delivery_id=delivery_id).outcome == "failed"
        receiver.behaviour.status = 200
        delivered_id = _queued_ping(receiver)
        with django_capture_on_commit_callbacks(execute=True):
            assert deliveries_send_due().delivered == 1  # the batch path counts too
    assert WebhookDelivery.objects.get(pk=delivered_id).status == "delivered"
    assert delta(DELIVERIES, outcome="failed") == 1
    assert delta(DELIVERIES, outcome="dead") == 1
    assert delta(DELIVERIES, outcome="delivered") == 1
    assert delta(LATENCY) == 3


def test_a_rolled_back_batch_counts_nothing(client, db, allow_local_webhooks, django_capture_on_commit_callbacks):
    delta = Delta(client)
    with Receiver() as receiver:
        _queued_ping(receiver)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:  # never committed
            assert deliveries_send_due().delivered == 1
    assert callbacks  # the count waits for the commit ...
    assert delta(DELIVERIES, outcome="delivered") == 0  # ... which did not happen
