"""Writes of the events app; see each module."""

from events.services.deliveries import (
    AttemptResult,
    Drained,
    deliveries_due,
    deliveries_send_due,
    delivery_attempt,
    delivery_next_in_line,
    delivery_redeliver,
)
from events.services.emit import (
    EventDraft,
    event_emit,
    events_emit_bulk,
    events_emit_many,
    events_written,
    outbox_insert,
)
from events.services.retention import events_purge_old
from events.services.sequence import Sequenced, events_sequence
from events.services.subscriptions import (
    webhook_create,
    webhook_delete,
    webhook_ping,
    webhook_rotate_secret,
    webhook_update,
)

__all__ = [
    "AttemptResult",
    "Drained",
    "EventDraft",
    "Sequenced",
    "deliveries_due",
    "deliveries_send_due",
    "delivery_attempt",
    "delivery_next_in_line",
    "delivery_redeliver",
    "event_emit",
    "events_emit_bulk",
    "events_emit_many",
    "events_purge_old",
    "events_sequence",
    "events_written",
    "outbox_insert",
    "webhook_create",
    "webhook_delete",
    "webhook_ping",
    "webhook_rotate_secret",
    "webhook_update",
]
