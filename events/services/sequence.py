"""Numbering committed events (`position`) and fanning them out to subscriptions."""
from django.db import connection, transaction
from django.db.models import Max

from events.models import Event, WebhookDelivery, WebhookSubscription

SEQUENCE_LOCK = 0x657674  # "evt": one sequencer at a time, across processes
BATCH_SIZE = 1000


def _lock_sequencer() -> None:
    # SQLite serializes writers (BEGIN IMMEDIATE), so only PostgreSQL needs the lock.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEQUENCE_LOCK])


@transaction.atomic
def events_sequence(*, limit: int = BATCH_SIZE) -> list[int]:
    """Give the next committed, unnumbered events their `position`, and queue their deliveries.

    Runs under one lock, so positions grow in the order they are handed out and a
    reader that follows positions never skips an event that commits late. Returns the
    ids of the deliveries created (for the caller to queue).
    """
    _lock_sequencer()
    events = list(Event.objects.filter(position__isnull=True).order_by("id")[:limit])
    if not events:
        return []
    start = (Event.objects.aggregate(top=Max("position"))["top"] or 0) + 1
    for offset, event in enumerate(events):
        event.position = start + offset
    Event.objects.bulk_update(events, ["position"], batch_size=BATCH_SIZE)
    subscriptions = list(WebhookSubscription.objects.filter(is_active=True))
    deliveries = [
        WebhookDelivery(subscription_id=subscription.pk, event_id=event.pk, aggregate=event.aggregate,
                        position=event.position, next_attempt_at=event.created_at)
        for event in events
        for subscription in subscriptions
        if (event.subscription_id == subscription.pk if event.subscription_id else subscription.wants(event.type))
    ]
    WebhookDelivery.objects.bulk_create(deliveries, batch_size=BATCH_SIZE, ignore_conflicts=False)
    return [d.pk for d in deliveries]
