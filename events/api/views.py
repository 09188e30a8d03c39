"""Events endpoints: the pull feed and webhook subscriptions with their delivery log."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from events import selectors, services
from events.api.serializers import (
    DeliveryQuerySerializer,
    EventSerializer,
    FeedQuerySerializer,
    WebhookDeliverySerializer,
    WebhookSubscriptionSerializer,
    WebhookWithSecretSerializer,
)
from events.models import Event, WebhookDelivery
from inventory_site.api.envelope import success
from inventory_site.api.pagination import PageSizePagination
from inventory_site.api.views import EnvelopeModelViewSet, etag_for, respond, write_preconditions

FEED_PARAMETERS = [
    OpenApiParameter("after", str, description="The last event id you have (`meta.next_after`)."),
    OpenApiParameter("size", int, description="Events per page (default 100, at most 1000)."),
    OpenApiParameter("type", str, description="Event types or prefixes (`stock.*`), repeated or comma-separated."),
    OpenApiParameter("sku_code", str),
    OpenApiParameter("reference", str),
]


class EventFeedViewSet(viewsets.GenericViewSet):
    """`GET /events/`: every event once, oldest first, after a cursor."""

    serializer_class = FeedQuerySerializer
    pagination_class = None
    action_permissions = {"list": ["view"], None: ["view"]}
    envelope_meta_schema = {
        "type": "object",
        "required": ["size", "count", "next_after"],
        "properties": {
            "size": {"type": "integer", "description": "The page size asked for."},
            "count": {"type": "integer", "description": "Events in `data`."},
            "next_after": {
                "type": "string",
                "nullable": True,
                "description": "Pass as `after` to read on (the last id, or your own `after`).",
            },
        },
    }

    def get_queryset(self):
        return Event.objects.all()

    @extend_schema(parameters=FEED_PARAMETERS, responses=EventSerializer(many=True))
    def list(self, request):
        query = FeedQuerySerializer(data={**request.query_params.dict(), "type": request.query_params.getlist("type")})
        query.is_valid(raise_exception=True)
        params = query.validated_data
        services.events_sequence()  # number what committed since the last worker run, so the feed is current
        events = list(
            selectors.event_feed(
                after=params.get("after"),
                types=params.get("type"),
                sku_code=params.get("sku_code", ""),
                reference=params.get("reference", ""),
            )[: params["size"]]
        )
        next_after = events[-1].public_id if events else params.get("after")
        return Response(
            success(
                [e.envelope() for e in events],
                meta={"size": params["size"], "count": len(events), "next_after": next_after},
            )
        )


class WebhookViewSet(EnvelopeModelViewSet):
    """Webhook subscriptions: CRUD, ping, rotate-secret, the delivery log and redeliver."""

    serializer_class = WebhookSubscriptionSerializer
    # `destroy`: a subscription has no soft delete, so `?force=true` needs no purge permission.
    action_permissions = {
        "ping": ["change"],
        "rotate_secret": ["change"],
        "deliveries": ["view"],
        "redeliver": ["change"],
        "destroy": ["delete"],
    }

    def get_queryset(self):
        return selectors.webhook_list()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.webhook_create(**serializer.validated_data, user=request.user)
        return respond(
            WebhookWithSecretSerializer(subscription).data,
            message="Webhook subscription created",
            status=status.HTTP_201_CREATED,
        )

    def update(self, request, *args, **kwargs):
        subscription = self.get_object()
        serializer = self.get_serializer(subscription, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        subscription = services.webhook_update(
            subscription=subscription,
            **write_preconditions(request, current_version=subscription.version),
            user=request.user,
            **serializer.validated_data,
        )
        return respond(
            self.get_serializer(subscription).data,
            message="Webhook subscription updated",
            headers={"ETag": etag_for(subscription)},
        )

    def destroy(self, request, *args, **kwargs):
        subscription = self.get_object()
        services.webhook_delete(
            subscription=subscription,
            **write_preconditions(request, current_version=subscription.version),
            user=request.user,
        )
        return respond(None, status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=WebhookSubscriptionSerializer)
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        event = services.webhook_ping(subscription=self.get_object(), user=request.user)
        return respond(
            {"event_id": event.public_id, "type": event.type}, message="Ping queued", status=status.HTTP_202_ACCEPTED
        )

    @extend_schema(request=None, responses=WebhookWithSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        subscription = services.webhook_rotate_secret(subscription=self.get_object(), user=request.user)
        return respond(
            WebhookWithSecretSerializer(subscription).data,
            message="Secret rotated; the old one also signs for 24 hours",
        )

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=WebhookDelivery.Status.values)],
        responses=WebhookDeliverySerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        query = DeliveryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        log = selectors.delivery_log(subscription=self.get_object(), status=query.validated_data.get("status"))
        paginator = PageSizePagination()
        page = paginator.paginate_queryset(log, request, view=self)
        return paginator.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses=WebhookDeliverySerializer)
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[0-9]{1,18})/redeliver")
    def redeliver(self, request, pk=None, delivery_id=None):
        subscription = self.get_object()
        delivery = get_object_or_404(
            WebhookDelivery.objects.select_related("event"), pk=delivery_id, subscription=subscription
        )
        delivery = services.delivery_redeliver(delivery=delivery)
        return respond(
            WebhookDeliverySerializer(delivery).data, message="Redelivery queued", status=status.HTTP_202_ACCEPTED
        )
