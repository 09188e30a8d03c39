"""The OpenAPI schema as a client generator reads it: shared envelopes and errors, the
error codes as an enum, typed request lines, readable operation ids, a bounded size."""

import re

import pytest
import yaml
from drf_spectacular.generators import SchemaGenerator
from openapi_spec_validator import validate

from inventory_site.api.schema import ERROR_RESPONSES
from inventory_site.exceptions import DomainError

# spec/api.md, "Envelope": the codes integrations may see.
CONTRACT_CODES = {
    "validation_error",
    "parse_error",
    "not_authenticated",
    "permission_denied",
    "not_found",
    "method_not_allowed",
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
}
MAX_LINES = 6600  # was 16,714 with every error envelope inline (6,000 before inbound shipments and reorder suggestions)


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_schema_is_valid_and_compact(schema):
    validate(schema)
    assert len(yaml.safe_dump(schema, sort_keys=False).splitlines()) < MAX_LINES


def test_error_code_enum_holds_every_code(schema):
    codes = set(schema["components"]["schemas"]["ErrorCode"]["enum"])
    assert CONTRACT_CODES <= codes
    pending, raised = list(DomainError.__subclasses__()), set()
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.code != DomainError.code:
            raised.add(cls.code)
    assert raised <= codes
    assert "domain_error" not in codes  # the abstract base's placeholder


def test_every_error_response_is_the_shared_envelope(schema):
    responses = schema["components"]["responses"]
    for name, _ in ERROR_RESPONSES.values():
        assert responses[name]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorEnvelope"
        }
    envelope = schema["components"]["schemas"]["ErrorEnvelope"]
    assert envelope["properties"]["code"] == {"$ref": "#/components/schemas/ErrorCode"}
    assert "insufficient_stock" in envelope["properties"]["errors"]["description"]
    for path, method, operation in operations(schema):
        errors = {status: r for status, r in operation["responses"].items() if status >= "400"}
        assert {"400", "401", "403", "404", "429", "500"} <= errors.keys(), (path, method)
        for status, response in errors.items():
            assert response == {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}, (path, method, status)


def test_success_bodies_are_shared_components(schema):
    schemas = schema["components"]["schemas"]
    for _path, _method, operation in operations(schema):
        for status, response in operation["responses"].items():
            for body in response.get("content", {}).values():
                if status.startswith("2"):
                    ref = body["schema"]["$ref"]
                    envelope = schemas[ref.rsplit("/", 1)[1]]
                    assert envelope["properties"]["status"] == {"$ref": "#/components/schemas/SuccessStatus"}, ref
    assert schemas["PaginatedSKUList"]["properties"]["meta"] == {"$ref": "#/components/schemas/PageMeta"}
    assert schemas["SKUEnvelope"]["properties"]["data"] == {"$ref": "#/components/schemas/SKU"}
    assert schemas["SKUEnvelope"]["properties"]["meta"]["enum"] == [None]


def test_request_lines_are_typed(schema):
    schemas = schema["components"]["schemas"]
    bulk = schemas["BulkAdjustmentRequest"]["properties"]["lines"]
    assert bulk == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/AdjustmentRequest"},
        "minItems": 1,
        "maxItems": 1000,
    }
    lines = schemas["ReservationCreateRequest"]["properties"]["lines"]
    assert lines["items"] == {"$ref": "#/components/schemas/ReservationLineInputRequest"}
    assert schemas["SKURequest"]["properties"]["attributes"]["allOf"] == [{"$ref": "#/components/schemas/Attributes"}]


def test_operation_ids_are_readable_and_unique(schema):
    ids = [operation["operationId"] for _, _, operation in operations(schema)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)+", i) for i in ids), ids
    assert {
        "sku_list",
        "sku_get",
        "sku_create",
        "sku_patch",
        "sku_delete",
        "category_tree",
        "category_move",
        "reservation_create",
        "reservation_commit",
        "adjustment_bulk",
        "movement_list",
        "stock_level_patch",
    } <= set(ids)
