"""Writing events into the outbox, inside the caller's transaction."""

import itertools
import json
import logging
import os
import threading
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


class _DispatchKicker:
    """Publishes the dispatch kick from a thread of its own, never on the request's.

    A write's commit only sets a flag; the thread publishes at most one kick per KICK_INTERVAL
    (one dispatch numbers everything committed so far). A broker that is down or slow costs
    that thread, not the write: after a failed publish the breaker stays open for
    BREAKER_SECONDS and kicks are dropped meanwhile; the sweep (every 2 s) delivers what they
    would have, and once the broker answers again so do the kicks.
    """

    KICK_INTERVAL = 0.25  # seconds
    BREAKER_SECONDS = 10.0

    def __init__(self) -> None:
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.open_until = 0.0

    def kick(self) -> None:
        if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
            self._start()  # first kick of this process (a forked worker inherits no thread)
        self._wanted.set()

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._wanted = threading.Event()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="events-dispatch-kicker", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        wanted = self._wanted
        while True:
            wanted.wait()
            wanted.clear()
            if time.monotonic() >= self.open_until:
                self._publish()
            time.sleep(self.KICK_INTERVAL)

    def _publish(self) -> None:
        try:
            # By name: the tasks module builds on these services, not the other way round.
            current_app.send_task(DISPATCH_TASK, retry=False, ignore_result=True)
        except Exception as exc:  # the change is committed; a lost kick only delays delivery until the sweep
            self.open_until = time.monotonic() + self.BREAKER_SECONDS
            logger.warning(
                "events: could not queue dispatch (%s); kicks paused %ss, the sweep delivers", exc, self.BREAKER_SECONDS
            )


_kicker = _DispatchKicker()


def _kick_dispatch() -> None:
    """After commit: ask a worker to sequence and deliver now (the sweep catches up if this is lost)."""
    _kicker.kick()


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
    rows = Event.objects.bulk_create(
        [
            Event(
                type=e.type,
                aggregate=e.aggregate,
                data=_plain(e.data),
                sku_code=e.sku_code[:50],
                reference=e.reference[:255],
            )
            for e in events
        ]
    )
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
    return (
        f"INSERT INTO {table} (type, aggregate, data, sku_code, reference, created_at)"
        f" SELECT e.type, e.aggregate, e.data, left(e.sku_code, 50), left(e.reference, 255), e.created_at"
        f" FROM ({rows}) e ORDER BY e.seq RETURNING id"
    )


def events_written() -> None:
    """After the caller's own SQL wrote events (`outbox_insert`): the dispatch kick, as `events_emit_many` does."""
    _kick_once()


BULK_BATCH = 5000


def events_emit_bulk(*, events: Iterable[EventDraft]) -> int:
    """Write many events in the caller's transaction, in order, for bulk writes (imports, loads).

    One `COPY` per BULK_BATCH events (ids follow the order given). `events` may be a
    generator that reads the database: each batch is drawn before its COPY starts. Returns how
    many were written; a rollback writes none.
    """
    now = timezone.now()
    encoder = DjangoJSONEncoder(separators=(",", ":"))
    table = connection.ops.quote_name(Event._meta.db_table)
    written = 0
    drafts = iter(events)
    while batch := list(itertools.islice(drafts, BULK_BATCH)):
        rows = [(e.type, e.aggregate, encoder.encode(e.data), e.sku_code[:50], e.reference[:255], now) for e in batch]
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                f"COPY {table} (type, aggregate, data, sku_code, reference, created_at) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        written += len(batch)
    if written:
        _kick_once()
    return written


def event_emit(*, type: str, aggregate: str, data: dict, sku_code: str = "", reference: str = "") -> Event:
    """Write one event in the caller's transaction (call it while holding the aggregate's row lock)."""
    return events_emit_many(events=[EventDraft(type, aggregate, data, sku_code, reference)])[0]
