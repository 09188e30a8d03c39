"""The one place that turns errors into HTTP responses: status, envelope and `code`."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from inventory_site.api.envelope import error
from inventory_site.api.parsers import PayloadTooLarge
from inventory_site.exceptions import DomainError, is_timed_out

logger = logging.getLogger("inventory_site.api")

# HTTP status of each domain error code. Codes not listed are 409 Conflict.
DOMAIN_STATUS = {
    "validation_error": status.HTTP_400_BAD_REQUEST,
    "invalid_move": status.HTTP_400_BAD_REQUEST,
    "not_found": status.HTTP_404_NOT_FOUND,
    "permission_denied": status.HTTP_403_FORBIDDEN,
    "precondition_failed": status.HTTP_412_PRECONDITION_FAILED,
    "idempotency_key_reused": status.HTTP_422_UNPROCESSABLE_ENTITY,
}

DRF_CODES = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "parse_error",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}

MESSAGES = {
    "validation_error": "Invalid input.",
    "not_found": "Not found.",
}


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def _drf_error_response(exc: exceptions.APIException, context) -> Response:
    response = drf_exception_handler(exc, context)  # sets WWW-Authenticate, Retry-After
    assert response is not None  # DRF answers every APIException
    code = getattr(exc, "envelope_code", None) or next(
        (c for cls, c in DRF_CODES.items() if isinstance(exc, cls)), exc.default_code
    )
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if not isinstance(detail, dict):
            detail = {"non_field_errors": detail if isinstance(detail, list) else [detail]}
        body = error(code, f"Invalid input: {_first_message(detail)}", detail)
    else:
        body = error(code, _first_message(exc.detail), getattr(exc, "envelope_errors", None))
    response.data = body
    return response


def envelope_exception_handler(exc, context) -> Response:
    """DRF's `EXCEPTION_HANDLER`: every failure becomes an enveloped error."""
    if isinstance(exc, DomainError):
        return Response(
            error(exc.code, exc.message, exc.errors),
            status=DOMAIN_STATUS.get(exc.code, status.HTTP_409_CONFLICT),
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # DRF reads the whole body before the JSON parser can count it.
        exc = PayloadTooLarge()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, exceptions.APIException):
        return _drf_error_response(exc, context)
    if is_timed_out(exc):
        return Response(
            error("service_unavailable", "The request took too long and was stopped; nothing was changed."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("database unavailable: %s", exc.__class__.__name__)
        return Response(
            error("service_unavailable", "The database is unavailable; try again shortly."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
    return Response(error("server_error", "Internal server error."), status=status.HTTP_500_INTERNAL_SERVER_ERROR)
