"""Inbound shipments and reorder suggestions: validate the request, call one service, present the result."""

from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action

from inventory_site.api.filters import NamedOrderingFilter
from inventory_site.api.views import EnvelopeViewSetMixin, etag_for, respond, write_preconditions
from stock import services
from stock.api.filters import InboundFilter, ReorderSuggestionFilter
from stock.api.idempotency import idempotent
from stock.api.serializers import MovementSerializer
from stock.api.serializers_inbound import (
    CreateDraftsSerializer,
    InboundShipmentSerializer,
    InboundWriteSerializer,
    ReceiptSerializer,
    ReceiveSerializer,
    ReorderSuggestionSerializer,
)
from stock.api.views import IDEMPOTENCY_KEY, KEY_REUSED, _levels_data
from stock.models import InboundShipment, StockLevel
from stock.selectors_reorder import reorder_suggestions

FILTERS = [DjangoFilterBackend, NamedOrderingFilter]


def _line_inputs(lines) -> list:
    return [services.InboundLineInput(sku=line["sku"], quantity_expected=line["quantity_expected"]) for line in lines]


class InboundShipmentViewSet(
    EnvelopeViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Inbound shipments (purchase orders): draft, open, receive, cancel."""

    serializer_class = InboundShipmentSerializer
    filterset_class = InboundFilter
    filter_backends = FILTERS
    ordering_map = {"created_at": ["created_at"], "expected_at": ["expected_at"], "reference": ["reference"]}
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {
        "open": ["change"],
        "cancel": ["change"],
        "receive": ["receive"],
        None: ["view"],
    }

    def get_queryset(self):
        return InboundShipment.objects.select_related("warehouse").prefetch_related("lines__sku")

    def _present(self, shipment, *, message: str, status_code: int = 200):
        shipment = self.get_queryset().get(pk=shipment.pk)
        return respond(
            self.get_serializer(shipment).data,
            message=message,
            status=status_code,
            headers={"ETag": etag_for(shipment)},
        )

    @extend_schema(request=InboundWriteSerializer, responses={201: InboundShipmentSerializer})
    def create(self, request):
        serializer = InboundWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        shipment = services.inbound_create(**{**data, "lines": _line_inputs(data["lines"])}, user=request.user)
        return self._present(shipment, message="Inbound shipment created", status_code=status.HTTP_201_CREATED)

    @extend_schema(request=InboundWriteSerializer, responses=InboundShipmentSerializer)
    def partial_update(self, request, *args, **kwargs):
        shipment = self.get_object()
        serializer = InboundWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("version", None)
        if "lines" in data:
            data["lines"] = _line_inputs(data["lines"])
        shipment = services.inbound_update(
            shipment=shipment,
            **write_preconditions(request, current_version=shipment.version),
            user=request.user,
            **data,
        )
        return self._present(shipment, message="Inbound shipment updated")

    @extend_schema(request=None, responses=InboundShipmentSerializer)
    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        shipment = self.get_object()
        shipment = services.inbound_open(
            shipment=shipment,
            **write_preconditions(request, current_version=shipment.version),
            user=request.user,
        )
        return self._present(shipment, message="Inbound shipment opened")

    @extend_schema(request=None, responses=InboundShipmentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        shipment = self.get_object()
        shipment = services.inbound_cancel(
            shipment=shipment,
            **write_preconditions(request, current_version=shipment.version),
            user=request.user,
        )
        return self._present(shipment, message="Inbound shipment cancelled")

    @extend_schema(
        request=ReceiveSerializer, responses={201: ReceiptSerializer, 422: KEY_REUSED}, parameters=[IDEMPOTENCY_KEY]
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def receive(self, request, pk=None):
        shipment = get_object_or_404(InboundShipment.objects.all(), pk=pk)
        serializer = ReceiveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        shipment, movements, levels = services.inbound_receive(
            shipment=shipment,
            allow_over_receipt=data["allow_over_receipt"],
            note=data["note"],
            user=request.user,
            lines=[
                services.ReceiptLine(sku=line["sku"], quantity=line["quantity"], state=line["state"])
                for line in data["lines"]
            ],
        )
        shipment = self.get_queryset().get(pk=shipment.pk)
        body = {
            "shipment": InboundShipmentSerializer(shipment).data,
            "movements": MovementSerializer(movements, many=True).data,
            "levels": _levels_data(
                StockLevel.objects.filter(pk__in=[lvl.pk for lvl in levels])
                .select_related("sku", "warehouse")
                .order_by("sku_id", "warehouse_id")
            ),
        }
        return respond(body, message="Inbound shipment received", status=status.HTTP_201_CREATED)


class ReorderSuggestionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Levels whose stock to come (available + incoming - backordered) is at or below their reorder point."""

    serializer_class = ReorderSuggestionSerializer
    filterset_class = ReorderSuggestionFilter
    filter_backends = [DjangoFilterBackend]
    action_permissions = {"create_drafts": ["stock.add_inboundshipment"], None: ["view"]}

    def get_queryset(self):
        return reorder_suggestions()

    @extend_schema(request=CreateDraftsSerializer, responses={201: InboundShipmentSerializer})
    @action(detail=False, methods=["post"], url_path="create-drafts")
    def create_drafts(self, request):
        serializer = CreateDraftsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shipment = services.reorder_drafts_create(**serializer.validated_data, user=request.user)
        shipment = (
            InboundShipment.objects.select_related("warehouse").prefetch_related("lines__sku").get(pk=shipment.pk)
        )
        return respond(
            InboundShipmentSerializer(shipment).data,
            message="Draft inbound shipment created",
            status=status.HTTP_201_CREATED,
        )
