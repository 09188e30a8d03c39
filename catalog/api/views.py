"""Catalog endpoints: validate the input, call one service, present the result."""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog import selectors, services
from catalog.api.filters import CategoryFilter, ProductFilter, SKUFilter
from catalog.api.serializers import (
    CategoryMoveSerializer,
    CategorySerializer,
    CategoryTreeNodeSerializer,
    CategoryTreeQuerySerializer,
    ProductSerializer,
    SKUSerializer,
)
from inventory_site.api.filters import NamedOrderingFilter
from inventory_site.api.permissions import is_force_delete
from inventory_site.api.views import EnvelopeModelViewSet, etag_for, respond, write_preconditions

FORCE_PARAMETER = OpenApiParameter(
    "force",
    OpenApiTypes.BOOL,
    description="`true`: delete for good (needs the delete permission and "
    "superuser or the model's purge permission). Refused while other rows refer to it.",
)
IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The version read, quoted (`"3"`): a mismatch is a 412 and nothing is written.',
)
NO_CONTENT = OpenApiResponse(description="Deleted.")
CRUD_DOCS = {
    "update": extend_schema(
        parameters=[IF_MATCH_PARAMETER],
        description="Replace the writable fields. `version` in the body: a stale one is a 409 `version_conflict`.",
    ),
    "partial_update": extend_schema(
        parameters=[IF_MATCH_PARAMETER],
        description="Change some fields. `version` in the body: a stale one is a 409 `version_conflict`.",
    ),
    "destroy": extend_schema(
        parameters=[FORCE_PARAMETER, IF_MATCH_PARAMETER],
        responses={204: NO_CONTENT},
        description="Soft delete (hidden, restorable; the version grows), or `?force=true` to delete for good.",
    ),
    "retrieve": extend_schema(
        parameters=[
            OpenApiParameter("include_deleted", OpenApiTypes.BOOL, description="`true` to read a soft-deleted one.")
        ],
        description='One object, with `ETag: "<version>"`. Deleted ones need `?include_deleted=true`.',
    ),
}


def strict_boolean_param(request, name: str) -> bool:
    """A `true`/`false` query parameter (absent: false); anything else is a 400."""
    raw = request.query_params.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise serializers.ValidationError({name: ["Use true or false."]})
    return raw == "true"


class CatalogViewSet(EnvelopeModelViewSet):
    """CRUD through the catalog services; reads through selectors.

    A subclass names its selector and services; `id_argument` is the keyword its
    services take the primary key as (`sku_id=`).
    """

    filter_backends = [DjangoFilterBackend, NamedOrderingFilter]
    action_permissions = {"restore": ["change"]}
    id_argument: str
    label: str
    # Set by each subclass: its list selector and its services (called through the class).
    list_selector: Callable[[], QuerySet[Any]]
    create_service: Callable[..., Any]
    update_service: Callable[..., Any]
    soft_delete_service: Callable[..., Any]
    restore_service: Callable[..., Any]
    hard_delete_service: Callable[..., Any]

    def get_queryset(self) -> QuerySet[Any]:
        return self.list_selector()

    def _pk(self) -> int:
        return int(self.kwargs["pk"])

    def _input(self, *, partial: bool, for_update: bool) -> dict:
        serializer = self.get_serializer(
            data=self.request.data, partial=partial, context={**self.get_serializer_context(), "for_update": for_update}
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _present(self, obj, *, message: str, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=obj.pk)
        return respond(
            self.get_serializer(fresh).data, message=message, status=status_code, headers={"ETag": etag_for(fresh)}
        )

    def create(self, request, *args, **kwargs):
        obj = type(self).create_service(user=request.user, **self._input(partial=False, for_update=False))
        return self._present(obj, message=f"{self.label} created", status_code=status.HTTP_201_CREATED)

    def update(self, request, *args, partial: bool = False, **kwargs):
        preconditions = write_preconditions(request)
        changes = self._input(partial=partial, for_update=True)
        obj = type(self).update_service(**{self.id_argument: self._pk()}, user=request.user, **changes, **preconditions)
        return self._present(obj, message=f"{self.label} updated")

    def soft_delete_options(self, request) -> dict:
        """Extra keyword arguments of the soft-delete service (products: `cascade`)."""
        return {}

    def destroy(self, request, *args, **kwargs):
        preconditions = write_preconditions(request)
        if is_force_delete(request):
            type(self).hard_delete_service(
                **{self.id_argument: self._pk()}, user=request.user, if_match=preconditions["if_match"]
            )
        else:
            type(self).soft_delete_service(
                **{self.id_argument: self._pk()},
                user=request.user,
                **self.soft_delete_options(request),
                **preconditions,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        parameters=[IF_MATCH_PARAMETER],
        description="Bring back a soft-deleted object (the version grows). Needs the change permission.",
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        obj = type(self).restore_service(
            **{self.id_argument: self._pk()}, user=request.user, **write_preconditions(request)
        )
        return self._present(obj, message=f"{self.label} restored")


@extend_schema_view(
    list=extend_schema(description="Categories in tree order (default), with `product_count`."),
    **CRUD_DOCS,
)
class CategoryViewSet(CatalogViewSet):
    """The category tree (django-mptt)."""

    serializer_class = CategorySerializer
    filterset_class = CategoryFilter
    ordering_map = {"name": ["name"], "created_at": ["created_at"], "tree": ["tree_id", "lft"]}
    ordering = ["tree_id", "lft"]
    action_permissions = {"restore": ["change"], "move": ["change"]}
    id_argument = "category_id"
    label = "Category"
    list_selector = staticmethod(selectors.category_list)
    create_service = services.category_create
    update_service = services.category_update
    soft_delete_service = services.category_soft_delete
    restore_service = services.category_restore
    hard_delete_service = services.category_hard_delete

    @extend_schema(
        parameters=[CategoryTreeQuerySerializer],
        responses=CategoryTreeNodeSerializer(many=True),
        description="The active tree: the top-level categories (or `root_id`), each with `children`, "
        "recursively; `max_depth=N` keeps N levels below the top nodes. Not paginated.",
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def tree(self, request):
        query = CategoryTreeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return respond(selectors.category_tree(**query.validated_data))

    @extend_schema(
        responses=CategorySerializer(many=True),
        parameters=[],
        description="From the top-level category down to the parent (not the category itself).",
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def ancestors(self, request, pk=None):
        category = selectors.category_get(category_id=self._pk())
        ancestors = selectors.category_ancestors(category=category)
        return respond(self.get_serializer(ancestors, many=True).data)

    @extend_schema(
        responses=CategorySerializer(many=True),
        description="Every active category below it (not itself), in tree order; paginated.",
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def descendants(self, request, pk=None):
        category = selectors.category_get(category_id=self._pk())
        page = self.paginate_queryset(selectors.category_descendants(category=category))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=CategoryMoveSerializer,
        responses=CategorySerializer,
        parameters=[IF_MATCH_PARAMETER],
        description="Move the category and its subtree relative to `target_id`. Under itself or a "
        "descendant: 400 `invalid_move`. Needs the change permission.",
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        preconditions = write_preconditions(request)
        body = CategoryMoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        category = services.category_move(
            category_id=self._pk(), user=request.user, **body.validated_data, **preconditions
        )
        return self._present(category, message="Category moved")


@extend_schema_view(
    destroy=extend_schema(
        parameters=[
            FORCE_PARAMETER,
            IF_MATCH_PARAMETER,
            OpenApiParameter(
                "cascade",
                OpenApiTypes.BOOL,
                description="`true`: also soft-delete its active SKUs "
                "(refused with 409 `has_reserved_stock` if one has reserved stock); restore brings them back.",
            ),
        ],
        responses={204: NO_CONTENT},
        description="Soft delete; with active SKUs 409 `has_dependents` unless `cascade=true`; "
        "`force=true` deletes for good.",
    ),
    **{k: v for k, v in CRUD_DOCS.items() if k != "destroy"},
)
class ProductViewSet(CatalogViewSet):
    """Products; their variants are SKUs."""

    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    ordering_map = {"name": ["name"], "created_at": ["created_at"], "updated_at": ["updated_at"]}
    ordering = ["pk"]
    id_argument = "product_id"
    label = "Product"
    list_selector = staticmethod(selectors.product_list)
    create_service = services.product_create
    update_service = services.product_update
    soft_delete_service = services.product_soft_delete
    restore_service = services.product_restore
    hard_delete_service = services.product_hard_delete

    def soft_delete_options(self, request) -> dict:
        return {"cascade": strict_boolean_param(request, "cascade")}


@extend_schema_view(**CRUD_DOCS)
class SKUViewSet(CatalogViewSet):
    """SKUs: sellable variants with a code and a price."""

    serializer_class = SKUSerializer
    filterset_class = SKUFilter
    ordering_map = {"sku_code": ["sku_code"], "price": ["price"], "created_at": ["created_at"]}
    ordering = ["pk"]
    id_argument = "sku_id"
    label = "SKU"
    list_selector = staticmethod(selectors.sku_list)
    create_service = services.sku_create
    update_service = services.sku_update
    soft_delete_service = services.sku_soft_delete
    restore_service = services.sku_restore
    hard_delete_service = services.sku_hard_delete
