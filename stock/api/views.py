"""Stock endpoints: validate the request, call one service, present the result."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action

from catalog.api.views import CRUD_DOCS, SKUViewSet
from inventory_site.api.filters import NamedOrderingFilter
from inventory_site.api.permissions import is_force_delete
from inventory_site.api.schema import ERROR_ENVELOPE
from inventory_site.api.views import (
    ID_PATTERN,
    EnvelopeModelViewSet,
    EnvelopeViewSetMixin,
    etag_for,
    respond,
    write_preconditions,
)
from stock import selectors, services
from stock.api import filters
from stock.api.idempotency import idempotent
from stock.api.plain import PlainReservation, plain_reservation
from stock.api.serializers import (
    AdjustmentSerializer,
    BulkAdjustmentSerializer,
    MovementAndLevelSerializer,
    MovementsAndLevelsSerializer,
    MovementSerializer,
    ReservationCreateSerializer,
    ReservationSerializer,
    SKUStockSerializer,
    StockLevelSerializer,
    StockLevelUpdateSerializer,
    TransferSerializer,
    WarehouseSerializer,
    reservation_representation,
)
from stock.api.serializers_states import StateMoveSerializer
from stock.api.sku_page import PAGE_PARAMETERS, SKUPagePagination
from stock.models import Reservation, StockMovement, Warehouse

FILTERS = [DjangoFilterBackend, NamedOrderingFilter]
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="1-255 printable ASCII characters, per user, kept 24 h. The same key with the same body "
    "replays the first response (`Idempotent-Replayed: true`); with another body: 422 "
    "`idempotency_key_reused`; while the first still runs: 409 `idempotency_key_in_use`.",
)
KEY_REUSED = OpenApiResponse(
    ERROR_ENVELOPE, description="`idempotency_key_reused`: the key was used with another request."
)


@extend_schema_view(**CRUD_DOCS)
class SKUStockViewSet(SKUViewSet):
    """SKUs: sellable variants with a code, a price and their stock over all warehouses."""

    operation_id_base = "sku"  # operation ids `sku_list`, `sku_get`, ... (see inventory_site.api.schema)
    serializer_class = SKUStockSerializer
    filterset_class = filters.SKUStockFilter
    ordering_map = {**SKUViewSet.ordering_map, "available": ["stock_available"]}
    create_service = services.sku_create_with_stock
    pagination_class = SKUPagePagination
    _unfiltered: QuerySet | None = None

    def filter_queryset(self, queryset):
        # A list without filters (the storefront's pages: `page` and `size` only) is the same rows
        # every time: what the FilterSet and the ordering make of no parameters, made once per process.
        if self.action != "list" or not self.request.query_params.keys() <= PAGE_PARAMETERS:
            return super().filter_queryset(queryset)
        if SKUStockViewSet._unfiltered is None:
            SKUStockViewSet._unfiltered = super().filter_queryset(queryset)
        return SKUStockViewSet._unfiltered

    def list(self, request, *args, **kwargs):
        # DRF's list without the serializer: the paginator's rows are presented already (stock.api.sku_page).
        return self.get_paginated_response(self.paginate_queryset(self.filter_queryset(self.get_queryset())))


class WarehouseViewSet(EnvelopeModelViewSet):
    """Warehouses: codes, the default one, soft delete and restore."""

    serializer_class = WarehouseSerializer
    filterset_class = filters.WarehouseFilter
    filter_backends = FILTERS
    ordering_map = {"code": ["code"], "name": ["name"], "created_at": ["created_at"]}
    ordering = ["code"]
    action_permissions = {"restore": ["change"]}

    def get_queryset(self):
        return Warehouse.all_objects.all()

    def get_object(self):
        """Deleted warehouses are found by restore and hard delete, else only with `?include_deleted=true`."""
        queryset = self.get_queryset()
        include_deleted = self.request.query_params.get("include_deleted", "").lower() == "true"
        if not (include_deleted or self.action == "restore" or is_force_delete(self.request)):
            queryset = queryset.filter(is_deleted=False)
        obj = get_object_or_404(queryset, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, obj)
        return obj

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        warehouse = services.warehouse_create(**serializer.validated_data, user=request.user)
        return respond(self.get_serializer(warehouse).data, message="Warehouse created", status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        warehouse = self.get_object()
        serializer = self.get_serializer(warehouse, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        warehouse = services.warehouse_update(
            warehouse=warehouse,
            **write_preconditions(request, current_version=warehouse.version),
            user=request.user,
            **serializer.validated_data,
        )
        return respond(
            self.get_serializer(warehouse).data, message="Warehouse updated", headers={"ETag": etag_for(warehouse)}
        )

    def destroy(self, request, *args, **kwargs):
        warehouse = self.get_object()
        if is_force_delete(request):
            services.warehouse_hard_delete(warehouse=warehouse, user=request.user)
        else:
            services.warehouse_soft_delete(
                warehouse=warehouse,
                **write_preconditions(request, current_version=warehouse.version),
                user=request.user,
            )
        return respond(None, status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=WarehouseSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        warehouse = self.get_object()
        warehouse = services.warehouse_restore(
            warehouse=warehouse, **write_preconditions(request, current_version=warehouse.version), user=request.user
        )
        return respond(self.get_serializer(warehouse).data, message="Warehouse restored")


class StockLevelViewSet(
    EnvelopeViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """One row per (SKU, warehouse) with its quantity states; the settings (`low_stock_threshold`,
    `safety_stock`, `reorder_point`, `reorder_quantity`) are writable."""

    serializer_class = StockLevelSerializer
    filterset_class = filters.StockLevelFilter
    filter_backends = FILTERS
    ordering_map = {
        "sku_code": ["sku__sku_code"],
        "warehouse": ["warehouse__code"],
        "on_hand": ["on_hand"],
        "available": ["effective_available"],
        "damaged": ["damaged"],
        "quality_control": ["quality_control"],
        "updated_at": ["updated_at"],
    }
    ordering = ["pk"]
    http_method_names = ["get", "patch", "head", "options"]
    action_permissions = {None: ["view"]}  # a method without an action is a 405, not a 403

    def get_queryset(self):
        return selectors.stock_level_list()

    @extend_schema(request=StockLevelUpdateSerializer, responses=StockLevelSerializer)
    def partial_update(self, request, *args, **kwargs):
        level = self.get_object()
        serializer = StockLevelUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        settings_given = {field: value for field, value in serializer.validated_data.items() if field != "version"}
        services.stock_level_update_settings(
            level=level,
            **settings_given,
            **write_preconditions(request, current_version=level.version),
            user=request.user,
        )
        level = self.get_queryset().get(pk=level.pk)
        return respond(
            self.get_serializer(level).data, message="Stock level updated", headers={"ETag": etag_for(level)}
        )


class MovementViewSet(viewsets.ReadOnlyModelViewSet):
    """The append-only ledger."""

    lookup_value_regex = ID_PATTERN
    serializer_class = MovementSerializer
    filterset_class = filters.MovementFilter
    filter_backends = FILTERS
    ordering_map = {"created_at": ["created_at"]}
    ordering = ["-created_at", "-id"]
    action_permissions = {None: ["view"]}  # PUT/PATCH/DELETE are a 405, not a 403

    def get_queryset(self):
        return selectors.movement_list()


def _levels_data(levels) -> list:
    # many=True: a list serializer, whose data is a list.
    return StockLevelSerializer(selectors.attach_effective_reserved(levels), many=True).data  # type: ignore[return-value]


class AdjustmentViewSet(viewsets.GenericViewSet):
    """`POST` one adjustment, or `bulk/` many, all or nothing."""

    queryset = StockMovement.objects.none()
    serializer_class = AdjustmentSerializer
    required_permissions = ["stock.adjust_stock"]

    @extend_schema(
        request=AdjustmentSerializer,
        responses={201: MovementAndLevelSerializer, 422: KEY_REUSED},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request):
        serializer = AdjustmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        movement, level = services.stock_adjust(**serializer.validated_data, user=request.user)
        data = {"movement": MovementSerializer(movement).data if movement else None, "level": _levels_data([level])[0]}
        return respond(data, message="Stock adjusted", status=status.HTTP_201_CREATED)

    @extend_schema(
        request=BulkAdjustmentSerializer,
        responses={201: MovementsAndLevelsSerializer, 422: KEY_REUSED},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def bulk(self, request):
        serializer = BulkAdjustmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        movements, levels = services.stock_adjust_bulk(lines=serializer.validated_data["lines"], user=request.user)
        data = {
            "movements": [MovementSerializer(m).data if m else None for m in movements],
            "levels": _levels_data(levels),
        }
        return respond(data, message="Stock adjusted", status=status.HTTP_201_CREATED)


class TransferViewSet(viewsets.GenericViewSet):
    """`POST` a transfer: `transfer_out` and `transfer_in` in one transaction."""

    queryset = StockMovement.objects.none()
    serializer_class = TransferSerializer
    required_permissions = ["stock.transfer_stock"]

    @extend_schema(
        request=TransferSerializer,
        responses={201: MovementsAndLevelsSerializer, 422: KEY_REUSED},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request):
        serializer = TransferSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        movements, levels = services.stock_transfer(**serializer.validated_data, user=request.user)
        data = {"movements": MovementSerializer(movements, many=True).data, "levels": _levels_data(levels)}
        return respond(data, message="Stock transferred", status=status.HTTP_201_CREATED)


class StateMoveViewSet(viewsets.GenericViewSet):
    """`POST` a state move: units of one level between sellable, damaged and quality control."""

    queryset = StockMovement.objects.none()
    serializer_class = StateMoveSerializer
    required_permissions = ["stock.move_stock_state"]

    @extend_schema(
        request=StateMoveSerializer,
        responses={201: MovementAndLevelSerializer, 422: KEY_REUSED},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request):
        serializer = StateMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        movement, level = services.stock_state_move(**serializer.validated_data, user=request.user)
        data = {"movement": MovementSerializer(movement).data, "level": _levels_data([level])[0]}
        return respond(data, message="Stock state moved", status=status.HTTP_201_CREATED)


def _reservation_body(data) -> PlainReservation:
    """A reservation body of any shape, through `ReservationCreateSerializer` (400 when malformed)."""
    serializer = ReservationCreateSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    valid = serializer.validated_data
    return PlainReservation(
        reference=valid["reference"],
        ttl_seconds=valid.get("ttl_seconds"),
        allow_split=valid["allow_split"],
        lines=[
            services.CodedLine(
                sku_code=line.get("sku_code"),
                sku_id=line.get("sku_id"),
                quantity=line["quantity"],
                warehouse_code=line.get("warehouse"),
            )
            for line in valid["lines"]
        ],
    )


class ReservationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Hold stock for an order; commit or release it."""

    lookup_value_regex = ID_PATTERN
    serializer_class = ReservationSerializer
    filterset_class = filters.ReservationFilter
    filter_backends = FILTERS
    ordering_map = {"created_at": ["created_at"], "expires_at": ["expires_at"]}
    ordering = ["-created_at", "-id"]
    action_permissions = {
        "create": ["add"],
        "commit": ["stock.commit_reservation"],
        "release": ["stock.release_reservation"],
        None: ["view"],  # a method without an action is a 405, not a 403
    }

    def get_queryset(self):
        return selectors.reservation_list()

    def _present(self, reservation, *, message: str, status_code: int = 200):
        reservation = self.get_queryset().get(pk=reservation.pk)
        return respond(self.get_serializer(reservation).data, message=message, status=status_code)

    @extend_schema(
        request=ReservationCreateSerializer,
        responses={201: ReservationSerializer, 422: KEY_REUSED},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def create(self, request):
        # A plain body (the common shape) is parsed without building the serializer; any other
        # is parsed by it, whose 400 names what is wrong. Either way, one service places it.
        body = plain_reservation(request.data) or _reservation_body(request.data)
        reservation = services.reservation_create(
            reference=body.reference,
            lines=body.lines,
            ttl_seconds=body.ttl_seconds,
            user=request.user,
            allow_split=body.allow_split,
        )
        return respond(
            reservation_representation(reservation), message="Reservation created", status=status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses=ReservationSerializer)
    @action(detail=True, methods=["post"])
    def commit(self, request, pk=None):
        reservation = get_object_or_404(Reservation.objects.all(), pk=pk)
        services.reservation_commit(reservation=reservation, user=request.user)
        return self._present(reservation, message="Reservation committed")

    @extend_schema(request=None, responses=ReservationSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        reservation = get_object_or_404(Reservation.objects.all(), pk=pk)
        services.reservation_release(reservation=reservation, user=request.user)
        return self._present(reservation, message="Reservation released")
