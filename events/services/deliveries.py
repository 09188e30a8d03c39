"""Attempting webhook deliveries: signing, ordering per aggregate, retries and deactivation."""

import datetime
import json
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from events.exceptions import UnsafeWebhookURL
from events.models import WebhookDelivery, WebhookSubscription
from events.services.sequence import lock_sequencer
from events.signing import signature_header
from events.transport import Answer, post_json
from events.url_policy import Target, webhook_target
from inventory_site import metrics
from inventory_site.exceptions import InvalidInput

# About 10 s, 1 min, 5 min, 30 min, 2 h, 6 h, then every 12 h; given up 3 days after the first try.
BACKOFF_SECONDS = (10, 60, 300, 1800, 7200, 21600)
BACKOFF_LATER_SECONDS = 43200
GIVE_UP_AFTER = datetime.timedelta(days=3)
JITTER = 0.2


@dataclass(frozen=True)
class AttemptResult:
    """What one call of `delivery_attempt` did."""

    outcome: str  # "delivered", "retry", "failed", or "skipped" (not due, not first in line, taken)

    @property
    def settled(self) -> bool:
        """Delivered or given up: the next delivery of the aggregate may go."""
        return self.outcome in (WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.FAILED)


def backoff(attempts: int) -> datetime.timedelta:
    """The wait after the `attempts`-th failed attempt, with +-20 % jitter."""
    base = BACKOFF_SECONDS[attempts - 1] if attempts <= len(BACKOFF_SECONDS) else BACKOFF_LATER_SECONDS
    return datetime.timedelta(seconds=base * settings.WEBHOOK_BACKOFF_SCALE * random.uniform(1 - JITTER, 1 + JITTER))


def _earlier_pending() -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(
        subscription_id=OuterRef("subscription_id"),
        aggregate=OuterRef("aggregate"),
        position__lt=OuterRef("position"),
        status=WebhookDelivery.Status.PENDING,
    )


def _secrets(subscription: WebhookSubscription, now: datetime.datetime) -> list[str]:
    secrets = [subscription.secret]
    if (
        subscription.previous_secret
        and subscription.previous_secret_expires_at
        and subscription.previous_secret_expires_at > now
    ):
        secrets.append(subscription.previous_secret)
    return secrets


def _target(subscription: WebhookSubscription) -> tuple[Target | None, str]:
    """Where to send (checked now), or why not."""
    try:
        return webhook_target(subscription.url), ""
    except UnsafeWebhookURL as exc:
        return None, f"refused: {exc.reason}"


def _send(delivery: WebhookDelivery, now: datetime.datetime, target: Target | None = None, refusal: str = "") -> Answer:
    subscription = delivery.subscription
    if target is None and not refusal:
        target, refusal = _target(subscription)
    if target is None:
        return Answer(None, refusal)
    body = json.dumps(delivery.event.envelope(), separators=(",", ":")).encode()
    timestamp = int(now.timestamp())
    msg_id = delivery.event.public_id
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            _secrets(subscription, now), msg_id=msg_id, timestamp=timestamp, body=body
        ),
    }
    return post_json(target, body=body, headers=headers)


@transaction.atomic
def delivery_next_in_line(*, delivery_id: int) -> int | None:
    """The pending delivery that waited for this (settled) one: same subscription and aggregate.

    Call it after the attempt committed. It waits for a sequencer that is creating
    deliveries right now (shared side of its lock), so a delivery created meanwhile is
    either seen here or was seen by the sequencer as first in line: none is left waiting.
    """
    lock_sequencer(shared=True)
    settled = WebhookDelivery.objects.filter(pk=delivery_id).values("subscription_id", "aggregate", "position").first()
    if settled is None:
        return None
    return (
        WebhookDelivery.objects.filter(
            subscription_id=settled["subscription_id"],
            aggregate=settled["aggregate"],
            status=WebhookDelivery.Status.PENDING,
            position__gt=settled["position"],
        )
        .order_by("position")
        .values_list("pk", flat=True)
        .first()
    )


def _record_success(delivery: WebhookDelivery, answer: Answer, now: datetime.datetime) -> None:
    delivery.status = WebhookDelivery.Status.DELIVERED
    delivery.delivered_at = now
    delivery.last_error = ""
    if delivery.subscription.failing_since is not None:
        WebhookSubscription.objects.filter(pk=delivery.subscription_id).update(failing_since=None)


def _record_failure(delivery: WebhookDelivery, answer: Answer, now: datetime.datetime) -> None:
    delivery.last_error = answer.error or f"HTTP {answer.status}"
    subscriptions = WebhookSubscription.objects.filter(pk=delivery.subscription_id)
    subscriptions.filter(failing_since__isnull=True).update(failing_since=now)
    if answer.status == 410:
        delivery.status = WebhookDelivery.Status.FAILED
        subscriptions.update(
            is_active=False, deactivated_reason=f"The receiver answered 410 Gone on {now:%Y-%m-%d %H:%M} UTC."
        )
        return
    # `_attempt` set `first_attempt_at` before this failure was recorded.
    if delivery.first_attempt_at is not None and now - delivery.first_attempt_at >= GIVE_UP_AFTER:
        delivery.status = WebhookDelivery.Status.FAILED
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    subscriptions.filter(failing_since__lte=now - GIVE_UP_AFTER, is_active=True).update(
        is_active=False,
        deactivated_reason=f"Every delivery failed for 3 days (last: {delivery.last_error})"[:500],
    )


def _attempt(
    delivery: WebhookDelivery, now: datetime.datetime, target: Target | None = None, refusal: str = ""
) -> tuple[str, float]:
    """Send a locked, due, first-in-line delivery and record the outcome on it (not saved)."""
    delivery.attempts += 1
    delivery.first_attempt_at = delivery.first_attempt_at or now
    began = time.monotonic()
    answer = _send(delivery, now, target, refusal)
    seconds = time.monotonic() - began
    delivery.last_status_code = answer.status
    if answer.status is not None and 200 <= answer.status < 300:
        _record_success(delivery, answer, now)
    else:
        _record_failure(delivery, answer, now)
    outcome = "retry" if delivery.status == WebhookDelivery.Status.PENDING else delivery.status
    return outcome, seconds


def _count_on_commit(outcome: str, seconds: float) -> None:
    # The metric's names: delivered, failed (will be retried), dead (given up).
    label = {"delivered": "delivered", "retry": "failed", "failed": "dead"}[outcome]
    transaction.on_commit(lambda: metrics.webhook_delivery(outcome=label, seconds=seconds))


@transaction.atomic
def delivery_attempt(*, delivery_id: int) -> AttemptResult:
    """Try one delivery if it is due and first in line for its subscription and aggregate.

    The delivery row stays locked while the request runs, so two workers never send it
    at once; a worker that dies mid-request leaves it pending, and it is sent again.
    """
    now = timezone.now()
    delivery = (
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("subscription", "event")
        .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .annotate(blocked=Exists(_earlier_pending()))
        .first()
    )
    if delivery is None or delivery.blocked or not delivery.subscription.is_active:
        return AttemptResult("skipped")
    outcome, seconds = _attempt(delivery, now)
    delivery.save()
    _count_on_commit(outcome, seconds)
    return AttemptResult(outcome)


@dataclass
class Drained:
    """What one `deliveries_send_due` call did: attempts made, and how many of them were delivered."""

    attempted: int = 0
    delivered: int = 0


SAVED_FIELDS = [
    "status",
    "attempts",
    "last_status_code",
    "last_error",
    "next_attempt_at",
    "first_attempt_at",
    "delivered_at",
]


def _claim(*, limit: int) -> list[WebhookDelivery]:
    """Lock up to `limit` due deliveries that are first in line, skipping rows other workers hold.

    At most one per subscription and aggregate: the next one of a chain is "blocked" while
    its head is pending, and moves up only once the head's outcome is committed.
    """
    now = timezone.now()
    return list(
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("subscription", "event")
        .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now, subscription__is_active=True)
        .exclude(Exists(_earlier_pending()))
        .order_by("next_attempt_at", "position")[:limit]
    )


@transaction.atomic
def deliveries_send_due(*, limit: int | None = None, seconds: float | None = None) -> Drained:
    """Send a batch of due deliveries in one transaction: claim, POST each, record all in one UPDATE.

    Rows stay locked (`FOR UPDATE SKIP LOCKED`) until the batch commits, so workers share
    the backlog without sending a row twice; a worker killed mid-batch rolls the whole
    batch back and every row of it is sent again (at least once, never lost). A batch holds
    one delivery per chain (subscription and aggregate), so a replayed batch repeats only
    the latest event of each chain, never one before it. A subscription that fails once is
    left alone for the rest of the batch, and no new POST starts after `seconds`: those
    rows stay as they were, for the next batch.
    """
    budget = time.monotonic() + (seconds or settings.WEBHOOK_BATCH_SECONDS)
    claimed = _claim(limit=limit or settings.WEBHOOK_BATCH_SIZE)
    drained = Drained()
    failing: set[int] = set()
    targets: dict[int, tuple[Target | None, str]] = {}
    attempted = []
    for delivery in claimed:
        if delivery.subscription_id in failing or time.monotonic() >= budget:
            continue
        if delivery.subscription_id not in targets:  # checked once per batch (DNS rebinding)
            targets[delivery.subscription_id] = _target(delivery.subscription)
        outcome, took = _attempt(delivery, timezone.now(), *targets[delivery.subscription_id])
        _count_on_commit(outcome, took)
        attempted.append(delivery)
        if outcome == "delivered":
            drained.delivered += 1
        else:
            failing.add(delivery.subscription_id)
    _save_outcomes(attempted)
    drained.attempted = len(attempted)
    return drained


def _save_outcomes(deliveries: list[WebhookDelivery]) -> None:
    """Write a batch's outcomes: the delivered ones in one UPDATE, the few others one by one."""
    delivered = [d for d in deliveries if d.status == WebhookDelivery.Status.DELIVERED]
    for delivery in deliveries:
        if delivery.status != WebhookDelivery.Status.DELIVERED:
            delivery.save(update_fields=SAVED_FIELDS)
    if not delivered:
        return
    # Django's bulk_update builds a CASE per field and row: for a batch of 100 that took
    # longer than the 100 POSTs. One UPDATE ... FROM (VALUES ...) does the same in a millisecond.
    table = WebhookDelivery._meta.db_table
    rows = ", ".join(["(%s, %s, %s, %s::timestamptz, %s::timestamptz)"] * len(delivered))
    params = [
        value for d in delivered for value in (d.pk, d.attempts, d.last_status_code, d.first_attempt_at, d.delivered_at)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS d SET status = 'delivered', attempts = v.attempts, last_status_code = v.code, "
            f"last_error = '', first_attempt_at = v.first_at, delivered_at = v.delivered_at "
            f"FROM (VALUES {rows}) AS v(id, attempts, code, first_at, delivered_at) WHERE d.id = v.id",
            params,
        )


def deliveries_due(*, limit: int = 5000) -> list[int]:
    """Pending deliveries that are due and first in line (what the drains will send next)."""
    now = timezone.now()
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            subscription__is_active=True,
        )
        .exclude(Exists(_earlier_pending()))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again, whatever its outcome so far (as a new try, due now)."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if not WebhookSubscription.objects.filter(pk=delivery.subscription_id, is_active=True).exists():
        raise InvalidInput("The subscription is not active; activate it before redelivering.")
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.first_attempt_at = None
    delivery.delivered_at = None
    delivery.save()
    return delivery
