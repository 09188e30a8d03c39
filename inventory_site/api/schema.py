"""OpenAPI schema that documents what the API really sends: the envelope, and its errors.

Generated clients are the schema's main readers, so everything they would otherwise see
once per operation is a shared component: one `ErrorEnvelope` (with `code` an enum of
the contract's error codes) behind one response component per error status, one success
envelope per resource (`SKUEnvelope`, `PaginatedSKUList`, `CategoryList`), `PageMeta`, and
readable operation ids (`sku_list`, `reservation_commit`).
"""

import json
import re

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema

from inventory_site.api.fields import LinesField
from inventory_site.exceptions import DomainError

# The codes of the API contract (spec/api.md) and the two the platform adds for 406 and
# 503. Codes of the apps' domain errors are added when the schema is built.
CONTRACT_ERROR_CODES = (
    "validation_error",
    "parse_error",
    "not_authenticated",
    "permission_denied",
    "not_found",
    "method_not_allowed",
    "not_acceptable",
    "unsupported_media_type",
    "throttled",
    "duplicate",
    "version_conflict",
    "precondition_failed",
    "has_dependents",
    "invalid_move",
    "insufficient_stock",
    "reservation_not_active",
    "reservation_expired",
    "idempotency_key_reused",
    "idempotency_key_in_use",
    "payload_too_large",
    "parent_deleted",
    "has_reserved_stock",
    "server_error",
    "service_unavailable",
)

ERROR_RESPONSES = {  # status -> (response component, description)
    "400": ("BadRequest", "Invalid input (`validation_error`, `parse_error`, `invalid_move`)."),
    "401": ("Unauthorized", "Missing or invalid credentials (`not_authenticated`)."),
    "403": ("Forbidden", "The user lacks the permission (`permission_denied`)."),
    "404": ("NotFound", "No such object (`not_found`)."),
    "405": ("MethodNotAllowed", "Method not allowed (`method_not_allowed`)."),
    "409": (
        "Conflict",
        "A business rule refused the change (`duplicate`, `version_conflict`, "
        "`has_dependents`, `insufficient_stock`, `idempotency_key_in_use`, ...).",
    ),
    "412": ("PreconditionFailed", "`If-Match` does not match the current version (`precondition_failed`)."),
    "413": ("PayloadTooLarge", "Body over 2 MiB (`payload_too_large`)."),
    "415": ("UnsupportedMediaType", "Only `application/json` is accepted (`unsupported_media_type`)."),
    "422": ("IdempotencyKeyReused", "Idempotency key reused with another body (`idempotency_key_reused`)."),
    "429": ("Throttled", "Rate limit exceeded (`throttled`), with `Retry-After`."),
    "500": ("ServerError", "Unexpected error (`server_error`)."),
    "503": ("ServiceUnavailable", "The database is unavailable (`service_unavailable`), with `Retry-After`."),
}
ERROR_DESCRIPTIONS = {status: description for status, (_, description) in ERROR_RESPONSES.items()}
READ_ERRORS = ["400", "401", "403", "404", "405", "429", "500", "503"]
WRITE_ERRORS = READ_ERRORS + ["409", "412", "413", "415"]

ALWAYS_NULL = {"enum": [None], "nullable": True}
SUCCESS_STATUS = {"$ref": "#/components/schemas/SuccessStatus"}
PAGE_META_REF = {"$ref": "#/components/schemas/PageMeta"}
ERROR_ENVELOPE = {
    "type": "object",
    "description": "The body of every 4xx and 5xx response.",
    "required": ["status", "data", "message", "code", "errors"],
    "properties": {
        "status": {"$ref": "#/components/schemas/ErrorStatus"},
        "data": {**ALWAYS_NULL, "description": "Always null in an error."},
        "message": {"type": "string", "description": "A human readable summary."},
        "code": {"$ref": "#/components/schemas/ErrorCode"},
        "errors": {
            "type": "object",
            "nullable": True,
            "additionalProperties": True,
            "description": 'For `validation_error`: field name -> list of messages (`{"price": ["..."]}`); '
            'lines of a request are named by index (`{"lines": {"0": {"quantity": ["..."]}}}`). '
            "Else null, or the detail of the refusal: `insufficient_stock` gives "
            '`{"lines": {"0": {"sku_code": "...", "available": 1, "requested": 2}}}` (one adjustment: '
            '`{"available": 1, "requested": 2}`), `version_conflict` gives `{"current_version": 4}`.',
        },
    },
}
PAGE_META = {
    "type": "object",
    "required": ["page", "size", "total", "pages"],
    "properties": {
        "page": {"type": "integer", "description": "This page, from 1."},
        "size": {"type": "integer", "description": "Rows per page (an unpaginated list: one page of all its rows)."},
        "total": {"type": "integer", "description": "Rows in all pages."},
        "pages": {"type": "integer", "description": "ceil(total / size); 0 without rows."},
    },
}
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
ACTION_NAMES = {"retrieve": "get", "partial_update": "patch", "destroy": "delete"}


def error_codes() -> list[str]:
    """Every `code` an error envelope can carry: the contract's and every domain error's."""
    codes = set(CONTRACT_ERROR_CODES)
    pending = list(DomainError.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls.code != DomainError.code:  # an abstract base that raises nothing itself
            codes.add(cls.code)
        pending.extend(cls.__subclasses__())
    return sorted(codes)


def success_envelope(schema: dict, meta: dict = ALWAYS_NULL) -> dict:
    """The envelope around one object (or an unpaginated list): `meta` is null unless the view
    documents its own (`envelope_meta_schema`, e.g. the events feed's cursor)."""
    return {
        "type": "object",
        "required": ["status", "data", "message", "meta"],
        "properties": {
            "status": SUCCESS_STATUS,
            "data": schema,
            "message": {"type": "string"},
            "meta": meta,
        },
    }


class EnvelopeAutoSchema(AutoSchema):
    """Wraps each documented success body in the envelope and lists the error responses."""

    def get_operation_id(self) -> str:
        """`<resource>_<action>` from the viewset and its action: `sku_list`, `reservation_commit`.

        The resource is the viewset's `operation_id_base` if it has one, else its class
        name without `ViewSet` (`StockLevelViewSet` -> `stock_level`).
        """
        action = getattr(self.view, "action", None)
        if not action:
            return super().get_operation_id()
        resource = (
            getattr(self.view, "operation_id_base", None)
            or _CAMEL_BOUNDARY.sub("_", type(self.view).__name__.removesuffix("ViewSet")).lower()
        )
        return f"{resource}_{ACTION_NAMES.get(action, action)}"

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        if not str(status_code).startswith("2") or self._is_list_view(serializer) and self._get_paginator():
            return response
        for body in response.get("content", {}).values():
            if "schema" in body:
                body["schema"] = success_envelope(
                    body["schema"], getattr(self.view, "envelope_meta_schema", ALWAYS_NULL)
                )
        return response

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = READ_ERRORS if self.method in ("GET", "HEAD") else WRITE_ERRORS
        for code in codes:
            responses.setdefault(code, {"content": {"application/json": {"schema": ERROR_ENVELOPE}}})
        return responses


class LinesFieldExtension(OpenApiSerializerFieldExtension):
    """`lines` of a bulk request: an array of the line serializer's component."""

    target_class = LinesField

    def map_serializer_field(self, auto_schema, direction):
        component = auto_schema.resolve_serializer(self.target.line_serializer, direction)
        schema = {"type": "array", "items": component.ref}
        if self.target.min_length is not None:
            schema["minItems"] = self.target.min_length
        if self.target.max_length is not None:
            schema["maxItems"] = self.target.max_length
        return schema


def _envelope_component(schema: dict) -> tuple[str, dict] | None:
    """The shared component an inline success envelope becomes: (name, schema), or None."""
    props = schema.get("properties", {})
    if props.get("status") != SUCCESS_STATUS:
        return None
    data, paginated = props["data"], props.get("meta") == PAGE_META_REF
    own_meta = props.get("meta") if props.get("meta") not in (ALWAYS_NULL, PAGE_META_REF, None) else None
    if "$ref" in data:
        name, kind = data["$ref"].rsplit("/", 1)[1], "Envelope"
    elif data.get("type") == "array" and "$ref" in data.get("items", {}):
        name, kind = data["items"]["$ref"].rsplit("/", 1)[1], "Page" if paginated else "List"
    else:
        return None
    return f"{name}{kind}", {
        "type": "object",
        "required": ["status", "data", "message", "meta"],
        "properties": {
            "status": SUCCESS_STATUS,
            "data": data,
            "message": {"type": "string", "description": "A human readable summary (`SKU created`)."},
            "meta": own_meta
            or (
                PAGE_META_REF if paginated or kind == "List" else {**ALWAYS_NULL, "description": "Null for one object."}
            ),
        },
    }


def _normalized(schema: dict) -> dict:
    """A success envelope that drf-spectacular made a component (`PaginatedSKUList`), with
    the shared `status` and `meta`."""
    component = _envelope_component(schema)
    return component[1] if component else schema


def _without_orphans(result: dict) -> None:
    """Drops schema components that no operation reaches (left by inlined envelopes)."""
    schemas = result["components"]["schemas"]
    reached: set[str] = set()
    text = json.dumps([result["paths"], result["components"].get("responses", {})], default=str)
    while True:
        found = set(re.findall(r'"#/components/schemas/([^"]+)"', text)) - reached
        if not found:
            break
        reached |= found
        text = json.dumps([schemas[name] for name in found if name in schemas], default=str)
    for name in set(schemas) - reached:
        del schemas[name]


def _shared_responses(responses: dict, schemas: dict) -> dict:
    shared = {}
    for status, response in responses.items():
        if status in ERROR_RESPONSES:
            name = ERROR_RESPONSES[status][0]
            shared[status] = {"$ref": f"#/components/responses/{name}"}
            continue
        shared[status] = response
        for body in response.get("content", {}).values():
            component = _envelope_component(body.get("schema", {}))
            if component:
                schemas.setdefault(component[0], component[1])
                body["schema"] = {"$ref": f"#/components/schemas/{component[0]}"}
    return shared


def postprocess_shared_components(result, generator, request, public):
    """drf-spectacular postprocessing hook: inline envelopes and errors become components."""
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(
        {
            "ErrorEnvelope": ERROR_ENVELOPE,
            "ErrorCode": {
                "type": "string",
                "enum": error_codes(),
                "description": "What went wrong, for programs; the HTTP status says how bad.",
            },
            "ErrorStatus": {"type": "string", "enum": ["error"]},
            "SuccessStatus": {"type": "string", "enum": ["success"]},
            "PageMeta": PAGE_META,
        }
    )
    components["responses"] = {
        name: {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
        }
        for name, description in ERROR_RESPONSES.values()
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"] = _shared_responses(operation["responses"], schemas)
    for name, schema in list(schemas.items()):
        schemas[name] = _normalized(schema)
    _without_orphans(result)
    components["schemas"] = dict(sorted(schemas.items()))
    return result
