"""Reads of the events app: the feed and the delivery log."""

from django.db.models import Q, QuerySet

from events.models import Event, WebhookDelivery, WebhookSubscription, parse_event_id


def event_feed(
    *, after: str | None = None, types: list[str] | None = None, sku_code: str = "", reference: str = ""
) -> QuerySet[Event]:
    """Sequenced events after the cursor, oldest first; `types` may hold `stock.*` prefixes.

    The cursor is an event id; the feed follows `position` (see `Event`), so the events
    after it are those with a greater position.
    """
    events = Event.objects.filter(position__isnull=False, subscription__isnull=True)
    if after:
        pk = parse_event_id(after)
        if pk is None:  # the API checks the cursor first
            raise ValueError(f"Not an event id: {after!r}")
        start = Event.objects.filter(pk=pk).values_list("position", flat=True).first()
        # A purged or never-sequenced cursor: every event numbered after it.
        events = events.filter(position__gt=start) if start is not None else events.filter(pk__gt=pk)
    if types:
        exact = [t for t in types if not t.endswith("*")]
        prefixes = [t[:-1] for t in types if t.endswith("*")]
        condition = Q(type__in=exact)
        for prefix in prefixes:
            condition |= Q(type__startswith=prefix)
        events = events.filter(condition)
    if sku_code:
        events = events.filter(sku_code=sku_code)
    if reference:
        events = events.filter(reference=reference)
    return events.order_by("position")


def webhook_list() -> QuerySet[WebhookSubscription]:
    """All subscriptions, oldest first."""
    return WebhookSubscription.objects.order_by("id")


def delivery_log(*, subscription: WebhookSubscription, status: str | None = None) -> QuerySet[WebhookDelivery]:
    """A subscription's deliveries, newest first, with their events."""
    deliveries = WebhookDelivery.objects.filter(subscription=subscription).select_related("event")
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.order_by("-id")
