"""Webhook subscriptions: create, change, delete, rotate the secret, ping."""

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from events.catalogue import event_patterns_check
from events.models import Event, WebhookSubscription
from events.services.emit import event_emit
from events.services.sequence import lock_sequencer
from events.signing import generate_secret
from events.url_policy import webhook_target
from inventory_site.exceptions import InvalidInput
from inventory_site.types import Actor

ROTATION_OVERLAP = datetime.timedelta(hours=24)
PING = "webhook.ping"


def _check(url: str) -> None:
    webhook_target(url)  # raises UnsafeWebhookURL (400) without sending anything


@transaction.atomic
def webhook_create(
    *,
    url: str,
    events: list[str],
    description: str = "",
    is_active: bool = True,
    secret: str | None = None,
    user: Actor = None,
) -> WebhookSubscription:
    """A new subscription; the secret is generated when not given."""
    _check(url)
    event_patterns_check(events)
    return WebhookSubscription.objects.create(
        url=url,
        events=events,
        description=description,
        is_active=is_active,
        secret=secret or generate_secret(),
    )


@transaction.atomic
def webhook_update(
    *,
    subscription: WebhookSubscription,
    expected_version: int | None = None,
    if_match: int | None = None,
    user: Actor = None,
    **changes: Any,
) -> WebhookSubscription:
    """Change url, events, description, is_active or secret; activating clears the failure state."""
    subscription = WebhookSubscription.lock_for_write(
        subscription.pk, expected_version=expected_version, if_match=if_match
    )
    if "url" in changes:
        _check(changes["url"])
    if "events" in changes:
        event_patterns_check(changes["events"])
    if changes.get("is_active") and not subscription.is_active:
        subscription.failing_since = None
        subscription.deactivated_reason = ""
    for name, value in changes.items():
        if name == "secret" and not value:
            continue
        setattr(subscription, name, value)
    subscription.save()
    return subscription


@transaction.atomic
def webhook_delete(
    *,
    subscription: WebhookSubscription,
    expected_version: int | None = None,
    if_match: int | None = None,
    user: Actor = None,
) -> None:
    """Remove a subscription with its delivery log."""
    # The sequencer's lock first: a sequencer running now could otherwise add deliveries for
    # this subscription after the cascade collected them (a foreign key error at commit).
    lock_sequencer()
    subscription = WebhookSubscription.lock_for_write(
        subscription.pk, expected_version=expected_version, if_match=if_match
    )
    subscription.delete()


@transaction.atomic
def webhook_rotate_secret(*, subscription: WebhookSubscription, user: Actor = None) -> WebhookSubscription:
    """A new secret; deliveries are signed with the old one too for the next 24 hours."""
    subscription = WebhookSubscription.lock_for_write(subscription.pk)
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
    subscription.secret = generate_secret()
    subscription.save()
    return subscription


@transaction.atomic
def webhook_ping(*, subscription: WebhookSubscription, user: Actor = None) -> Event:
    """Queue a `webhook.ping` event for this subscription only."""
    subscription = WebhookSubscription.lock_for_write(subscription.pk)
    if not subscription.is_active:
        raise InvalidInput("The subscription is not active.", errors={"is_active": ["Activate it to ping it."]})
    event = event_emit(
        type=PING,
        aggregate=f"webhook:{subscription.pk}",
        data={"subscription_id": subscription.pk, "url": subscription.url},
    )
    Event.objects.filter(pk=event.pk).update(subscription=subscription)
    return event
