"""Celery tasks of the outbox: sequence and fan out, drain due deliveries, sweep, purge."""

import logging
import time

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from events import services

logger = logging.getLogger("events")

# The database went away mid-task: try again shortly (the sweep also catches up).
ON_DATABASE_ERROR = {"autoretry_for": (DatabaseError,), "retry_backoff": 1, "retry_backoff_max": 30, "max_retries": 20}
# One drain task gives its slot back after this long (queuing its successor if work is left).
DRAIN_SECONDS = 60


def _queue_drains(wanted: int) -> None:
    """Ask for `wanted` drains (at most `WEBHOOK_DRAIN_TASKS`): they share the backlog through row locks."""
    for _ in range(min(wanted, settings.WEBHOOK_DRAIN_TASKS)):
        drain.apply_async(retry=False)


@shared_task(name="events.dispatch", **ON_DATABASE_ERROR)
def dispatch() -> int:
    """Number newly committed events and fan them out (kicked after each commit), then drain."""
    numbered = drains = 0
    while (batch := services.events_sequence()).events:
        numbered += batch.events
        # Drains start on the first batch: a backlog is delivered while the rest is numbered.
        wanted = min(len(batch.delivery_ids), settings.WEBHOOK_DRAIN_TASKS - drains)
        if wanted > 0:
            _queue_drains(wanted)
            drains += wanted
    return numbered


@shared_task(name="events.drain", **ON_DATABASE_ERROR)
def drain() -> int:
    """Send due deliveries, one batch per transaction, until none is due (or DRAIN_SECONDS passed)."""
    sent = 0
    began = time.monotonic()
    while (batch := services.deliveries_send_due()).attempted:
        sent += batch.attempted
        if time.monotonic() - began > DRAIN_SECONDS:
            drain.apply_async(retry=False)
            break
    return sent


@shared_task(name="events.deliver", **ON_DATABASE_ERROR)
def deliver(delivery_id: int) -> str:
    """Attempt one delivery (if due and first in line), then drain what follows it."""
    result = services.delivery_attempt(delivery_id=delivery_id)
    if result.settled:
        drain.apply_async(retry=False)
    return result.outcome


@shared_task(name="events.sweep")
def sweep() -> int:
    """The outbox sweep: sequence what a lost kick left, and drain if any delivery is due.

    Covers a broker that lost messages, a worker that died, and retries that came due.
    """
    dispatch()
    due = services.deliveries_due(limit=settings.WEBHOOK_DRAIN_TASKS)
    _queue_drains(len(due))
    return len(due)


@shared_task(name="events.purge")
def purge() -> int:
    """Delete events past `EVENT_RETENTION_DAYS`."""
    return services.events_purge_old()
