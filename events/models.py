"""The outbox (`Event`), webhook subscriptions and their deliveries."""

import datetime

from django.db import models
from django.utils import timezone

from events.catalogue import pattern_matches
from inventory_site.models import TimeStampedModel, VersionedModel

EVENT_ID_PREFIX = "evt_"
EVENT_ID_DIGITS = 19  # a bigint, zero-padded: ids sort the same as text and as numbers


def format_event_id(pk: int) -> str:
    """`evt_0000000000000000042`: the public, stable id of event 42."""
    return f"{EVENT_ID_PREFIX}{pk:0{EVENT_ID_DIGITS}d}"


def parse_event_id(text: str) -> int | None:
    """The primary key in a public event id, or None when it is not one."""
    if not text.startswith(EVENT_ID_PREFIX):
        return None
    digits = text[len(EVENT_ID_PREFIX) :]
    if not (digits.isascii() and digits.isdigit()) or len(digits) > EVENT_ID_DIGITS or int(digits) > 2**63 - 1:
        return None
    return int(digits)


class Event(models.Model):
    """One change, written in the same transaction as the change itself.

    Ordering per aggregate: services emit while they hold the aggregate's row lock
    (the stock level, reservation or SKU row they changed), so the next writer of the
    same aggregate allocates its id only after this transaction committed: ids of one
    aggregate increase in commit order.

    Ordering across aggregates: ids are allocated at insert and transactions commit in
    any order, so a reader could see id 11 before id 10 commits. `position` closes that
    gap: `events_sequence` numbers committed events one batch at a time under one lock,
    and the feed and the deliveries follow `position`, never skipping an event.
    """

    type = models.CharField(max_length=64, db_index=True)
    aggregate = models.CharField(max_length=100, help_text="What the event is about, e.g. `stock_level:12`.")
    data = models.JSONField()
    sku_code = models.CharField(max_length=50, blank=True, default="")
    reference = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    position = models.BigIntegerField(
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text="Order in the feed; set once the event is committed and sequenced.",
    )
    subscription = models.ForeignKey(
        "events.WebhookSubscription",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Set for an event meant for one subscription only (webhook.ping); such events are not in the feed.",
    )

    class Meta:
        indexes = [
            models.Index(fields=["sku_code", "position"], name="event_sku_position"),
            models.Index(fields=["reference", "position"], name="event_ref_position"),
            models.Index(fields=["id"], condition=models.Q(position__isnull=True), name="event_unsequenced"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} {self.type}"

    @property
    def public_id(self) -> str:
        return format_event_id(self.pk)

    def envelope(self) -> dict:
        """The event as the feed and a webhook body show it."""
        created = self.created_at.astimezone(datetime.UTC)
        return {
            "id": self.public_id,
            "type": self.type,
            "created_at": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "data": self.data,
        }


class WebhookSubscription(TimeStampedModel, VersionedModel):
    """An endpoint that receives the events whose types it names."""

    url = models.URLField(max_length=2000)
    events = models.JSONField(help_text="Event types or prefixes such as `stock.*`.")
    description = models.CharField(max_length=500, blank=True, default="")
    is_active = models.BooleanField(default=True)
    secret = models.CharField(max_length=200, editable=False)
    previous_secret = models.CharField(max_length=200, blank=True, default="", editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    failing_since = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="First failed attempt since the last success."
    )
    deactivated_reason = models.CharField(max_length=500, blank=True, default="", editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        """Whether this subscription's `events` names the type or a prefix of it."""
        return any(pattern_matches(pattern, event_type) for pattern in self.events)


class WebhookDelivery(models.Model):
    """One event to one subscription: its attempts and outcome."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    aggregate = models.CharField(max_length=100, help_text="The event's aggregate (deliveries of one wait in order).")
    position = models.BigIntegerField(help_text="The event's position: the order within an aggregate.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    next_attempt_at = models.DateTimeField(default=timezone.now)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="delivery_once_per_subscription"),
        ]
        indexes = [
            models.Index(
                fields=["subscription", "aggregate", "position"],
                name="delivery_chain",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["next_attempt_at"], name="delivery_due", condition=models.Q(status="pending")),
            models.Index(fields=["subscription", "-id"], name="delivery_log"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.subscription_id} ({self.status})"
