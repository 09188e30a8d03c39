"""Numbering committed events (`position`) and fanning them out to subscriptions."""

from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Max

from events.models import Event, WebhookDelivery, WebhookSubscription

SEQUENCE_LOCK = 0x657674  # "evt": one sequencer at a time, across processes
BATCH_SIZE = 1000


@dataclass(frozen=True)
class Sequenced:
    """What one `events_sequence` call numbered, and the deliveries to queue now."""

    events: int = 0
    delivery_ids: list[int] = field(default_factory=list)


def lock_sequencer(*, shared: bool = False) -> None:
    """Take the sequencer's lock until the transaction ends (`shared`: wait for a running sequencer only)."""
    with connection.cursor() as cursor:
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        cursor.execute(f"SELECT {function}(%s)", [SEQUENCE_LOCK])


@transaction.atomic
def events_sequence(*, limit: int = BATCH_SIZE) -> Sequenced:
    """Give the next committed, unnumbered events their `position`, and queue their deliveries.

    Runs under one lock, so positions grow in the order they are handed out and a
    reader that follows positions never skips an event that commits late. Returns how
    many it numbered and the new deliveries that are first in line (for the caller to queue).
    """
    lock_sequencer()
    events = list(
        Event.objects.filter(position__isnull=True)
        .order_by("id")
        .only("id", "type", "aggregate", "created_at", "subscription_id")[:limit]
    )
    if not events:
        return Sequenced()
    start = (Event.objects.aggregate(top=Max("position"))["top"] or 0) + 1
    for offset, event in enumerate(events):
        event.position = start + offset
    _save_positions(events, start)
    subscriptions = list(WebhookSubscription.objects.filter(is_active=True))
    deliveries = [
        WebhookDelivery(
            subscription_id=subscription.pk,
            event_id=event.pk,
            aggregate=event.aggregate,
            position=event.position,  # type: ignore[misc]  # numbered just above
            next_attempt_at=event.created_at,
        )
        for event in events
        for subscription in subscriptions
        if (event.subscription_id == subscription.pk if event.subscription_id else subscription.wants(event.type))
    ]
    WebhookDelivery.objects.bulk_create(deliveries, batch_size=BATCH_SIZE)
    return Sequenced(len(events), _first_in_line(deliveries, before=start))


def _save_positions(events: list[Event], start: int) -> None:
    # Django's bulk_update (a CASE per row) took over a second for 1,000 events; the ids
    # are in order, so their positions are `start` + their rank.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Event._meta.db_table} AS e SET position = %s + v.rank - 1 "
            "FROM unnest(%s::bigint[]) WITH ORDINALITY AS v(id, rank) WHERE e.id = v.id",
            [start, [event.pk for event in events]],
        )


def _first_in_line(deliveries: list[WebhookDelivery], *, before: int) -> list[int]:
    """The new deliveries that wait for no earlier pending one of their subscription and aggregate.

    The others are queued by the delivery before them when it settles (or by the sweep).
    """
    if not deliveries:
        return []
    waiting = set(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING,
            position__lt=before,
            subscription_id__in={d.subscription_id for d in deliveries},
            aggregate__in={d.aggregate for d in deliveries},
        )
        .values_list("subscription_id", "aggregate")
        .distinct()
    )
    heads = []
    for delivery in deliveries:
        key = (delivery.subscription_id, delivery.aggregate)
        if key not in waiting:
            waiting.add(key)
            heads.append(delivery.pk)
    return heads
