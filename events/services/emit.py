"""Writing events into the outbox, inside the caller's transaction."""
import itertools
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from celery import current_app
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from events.models import Event

logger = logging.getLogger("events")
DISPATCH_TASK = "events.dispatch"
KICK_INTERVAL = 0.25  # seconds


@dataclass(frozen=True)
class EventDraft:
    """An event not yet written: its type, aggregate key, payload and filter columns."""

    type: str
    aggregate: str
    data: dict = field(default_factory=dict)
    sku_code: str = ""
    reference: str = ""


def _plain(data: dict) -> dict:
    # Decimals, datetimes and UUIDs as the API writes them, so the stored payload is plain JSON.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


_last_kick = 0.0


def _kick_dispatch() -> None:
    """After commit: ask a worker to sequence and deliver now (the sweep catches up if this is lost).

    At most one kick per process every KICK_INTERVAL: publishing costs milliseconds, and
    one dispatch numbers everything committed so far; a commit inside the interval is
    picked up by that dispatch or by the sweep (every 2 s).
    """
    global _last_kick
    now = time.monotonic()
    if now - _last_kick < KICK_INTERVAL:
        return
    _last_kick = now
    try:
        # By name: the tasks module builds on these services, not the other way round.
        current_app.send_task(DISPATCH_TASK, retry=False, ignore_result=True)
    except Exception as exc:  # the change is committed; a lost kick only delays delivery until the sweep
        logger.warning("events: could not queue dispatch (%s); the sweep will deliver", exc)


def _kick_once() -> None:
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _kick_dispatch()
        return
    if not any(callback is _kick_dispatch for _, callback, _ in connection.run_on_commit):
        transaction.on_commit(_kick_dispatch, robust=True)


def events_emit_many(*, events: list[EventDraft]) -> list[Event]:
    """Write events in the caller's transaction, in list order: a rollback writes none."""
    if not events:
        return []
    rows = Event.objects.bulk_create([
        Event(type=e.type, aggregate=e.aggregate, data=_plain(e.data), sku_code=e.sku_code[:50],
              reference=e.reference[:255])
        for e in events
    ])
    _kick_once()
    return rows


def outbox_insert(rows: str) -> str:
    """SQL inserting the events that the query `rows` yields, for a caller's data-modifying CTE step.

    `rows` has the columns `seq, type, aggregate, data` (jsonb, plain JSON as `_plain` writes
    it), `sku_code, reference, created_at`; ids are drawn in `seq` order (the INSERT's own
    ORDER BY, applied before the identity default), as `events_emit_many` draws them in list
    order. `position` stays NULL until the sequencer numbers the committed event, as for
    every event. Call `events_written()` after it ran.
    """
    table = Event._meta.db_table
    return (f"INSERT INTO {table} (type, aggregate, data, sku_code, reference, created_at)"
            f" SELECT e.type, e.aggregate, e.data, left(e.sku_code, 50), left(e.reference, 255), e.created_at"
            f" FROM ({rows}) e ORDER BY e.seq RETURNING id")


def events_written() -> None:
    """After the caller's own SQL wrote events (`outbox_insert`): the dispatch kick, as `events_emit_many` does."""
    _kick_once()


BULK_BATCH = 5000


def events_emit_bulk(*, events: Iterable[EventDraft]) -> int:
    """Write many events in the caller's transaction, in order, for bulk writes (imports, loads).

    One `COPY` per BULK_BATCH events (ids follow the order given). `events` may be a
    generator that reads the database: each batch is drawn before its COPY starts. Returns how many were written; a rollback writes none.
    """
    now = timezone.now()
    encoder = DjangoJSONEncoder(separators=(",", ":"))
    table = connection.ops.quote_name(Event._meta.db_table)
    written = 0
    drafts = iter(events)
    while batch := list(itertools.islice(drafts, BULK_BATCH)):
        rows = [(e.type, e.aggregate, encoder.encode(e.data), e.sku_code[:50], e.reference[:255], now)
                for e in batch]
        with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {table} (type, aggregate, data, sku_code, reference, created_at) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        written += len(batch)
    if written:
        _kick_once()
    return written


def event_emit(*, type: str, aggregate: str, data: dict, sku_code: str = "", reference: str = "") -> Event:
    """Write one event in the caller's transaction (call it while holding the aggregate's row lock)."""
    return events_emit_many(events=[EventDraft(type, aggregate, data, sku_code, reference)])[0]
