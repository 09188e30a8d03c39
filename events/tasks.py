"""Celery tasks of the outbox: sequence and fan out, deliver, sweep, purge."""
import logging

from celery import shared_task
from django.db import DatabaseError

from events import services

logger = logging.getLogger("events")


def _queue(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        deliver.apply_async(args=[delivery_id], retry=False)
    services.deliveries_mark_queued(delivery_ids=delivery_ids)


# The database went away mid-task: try again shortly (the sweep also catches up).
ON_DATABASE_ERROR = {"autoretry_for": (DatabaseError,), "retry_backoff": 1, "retry_backoff_max": 30,
                     "max_retries": 20}


@shared_task(name="events.dispatch", **ON_DATABASE_ERROR)
def dispatch() -> int:
    """Number newly committed events and queue their deliveries (kicked after each commit)."""
    numbered = 0
    while (batch := services.events_sequence()).events:
        _queue(batch.delivery_ids)
        numbered += batch.events
    return numbered


CHAIN_IN_ONE_TASK = 100


@shared_task(name="events.deliver", **ON_DATABASE_ERROR)
def deliver(delivery_id: int) -> str:
    """Attempt a delivery; while they settle, go on with the next ones of its aggregate (then queue the rest)."""
    result = services.delivery_attempt(delivery_id=delivery_id)
    for _ in range(CHAIN_IN_ONE_TASK):
        if not result.settled or (next_id := services.delivery_next_in_line(delivery_id=delivery_id)) is None:
            return result.outcome
        delivery_id = next_id
        result = services.delivery_attempt(delivery_id=delivery_id)
    if result.settled and (next_id := services.delivery_next_in_line(delivery_id=delivery_id)) is not None:
        _queue([next_id])
    return result.outcome


@shared_task(name="events.sweep")
def sweep() -> int:
    """The outbox sweep: sequence what a lost kick left, and queue every due delivery.

    Covers a broker that lost messages, a worker that died, and retries that came due.
    """
    dispatch()
    due = services.deliveries_due()
    _queue(due)
    return len(due)


@shared_task(name="events.purge")
def purge() -> int:
    """Delete events past `EVENT_RETENTION_DAYS`."""
    return services.events_purge_old()
