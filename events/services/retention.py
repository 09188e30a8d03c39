"""Purging events older than `EVENT_RETENTION_DAYS`."""

import datetime

from django.conf import settings
from django.utils import timezone

from events.models import Event

PURGE_BATCH = 5000


def events_purge_old(*, now: datetime.datetime | None = None) -> int:
    """Delete events (and their deliveries) older than the retention; returns how many."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.EVENT_RETENTION_DAYS)
    removed = 0
    while True:
        ids = list(
            Event.objects.filter(created_at__lt=cutoff).order_by("id").values_list("pk", flat=True)[:PURGE_BATCH]
        )
        if not ids:
            return removed
        removed += Event.objects.filter(pk__in=ids).delete()[1].get("events.Event", 0)
