"""OpenAPI schema that documents what the API really sends: the envelope, and its errors."""
from drf_spectacular.openapi import AutoSchema

ERROR_ENVELOPE = {
    "type": "object",
    "required": ["status", "data", "message", "code", "errors"],
    "properties": {
        "status": {"type": "string", "enum": ["error"]},
        "data": {"nullable": True},
        "message": {"type": "string"},
        "code": {"type": "string", "example": "validation_error"},
        "errors": {"type": "object", "nullable": True, "additionalProperties": True},
    },
}

ERROR_DESCRIPTIONS = {
    "400": "Invalid input (`validation_error`, `parse_error`, `invalid_move`).",
    "401": "Missing or invalid credentials (`not_authenticated`).",
    "403": "The user lacks the permission (`permission_denied`).",
    "404": "No such object (`not_found`).",
    "405": "Method not allowed (`method_not_allowed`).",
    "409": "A business rule refused the change (`duplicate`, `version_conflict`, `has_dependents`, ...).",
    "412": "`If-Match` does not match the current version (`precondition_failed`).",
    "413": "Body over 2 MiB (`payload_too_large`).",
    "415": "Only `application/json` is accepted (`unsupported_media_type`).",
    "422": "Idempotency key reused with another body (`idempotency_key_reused`).",
    "429": "Rate limit exceeded (`throttled`).",
    "500": "Unexpected error (`server_error`).",
    "503": "The database is unavailable (`service_unavailable`).",
}
READ_ERRORS = ["400", "401", "403", "404", "405", "429", "500", "503"]
WRITE_ERRORS = READ_ERRORS + ["409", "412", "413", "415"]


def success_envelope(schema: dict) -> dict:
    return {
        "type": "object",
        "required": ["status", "data", "message", "meta"],
        "properties": {
            "status": {"type": "string", "enum": ["success"]},
            "data": schema,
            "message": {"type": "string"},
            "meta": {"type": "object", "nullable": True, "additionalProperties": True},
        },
    }


class EnvelopeAutoSchema(AutoSchema):
    """Wraps each documented success body in the envelope and lists the error responses."""

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        if not str(status_code).startswith("2") or self._is_list_view(serializer) and self._get_paginator():
            return response
        for body in response.get("content", {}).values():
            if "schema" in body:
                body["schema"] = success_envelope(body["schema"])
        return response

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = READ_ERRORS if self.method in ("GET", "HEAD") else WRITE_ERRORS
        for code in codes:
            responses.setdefault(code, {
                "content": {"application/json": {"schema": ERROR_ENVELOPE}},
                "description": ERROR_DESCRIPTIONS[code],
            })
        return responses
