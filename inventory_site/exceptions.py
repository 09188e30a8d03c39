"""The base of every domain error. Services raise these; the API maps them to HTTP.

Each app declares its own errors in `<app>/exceptions.py` by subclassing `DomainError`
with a `code` from the API contract. `inventory_site.api.exceptions` is the one place
that turns a code into an HTTP status.
"""
from typing import Any


class DomainError(Exception):
    """A business rule said no. `errors` carries machine-readable detail."""

    code = "domain_error"
    default_message = "The request breaks a business rule."

    def __init__(self, message: str | None = None, *, errors: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.errors = errors
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    default_message = "Not found."


class InvalidInput(DomainError):
    """Input that passed the serializer but breaks a rule only the service can check."""

    code = "validation_error"
    default_message = "Invalid input."


class Duplicate(DomainError):
    code = "duplicate"
    default_message = "An object with this value already exists."


class VersionConflict(DomainError):
    code = "version_conflict"
    default_message = "The object was changed by someone else since you read it."

    def __init__(self, current_version: int, message: str | None = None):
        super().__init__(message, errors={"current_version": current_version})
        self.current_version = current_version


class PreconditionFailed(DomainError):
    code = "precondition_failed"
    default_message = "If-Match does not match the current version."

    def __init__(self, current_version: int, message: str | None = None):
        super().__init__(message, errors={"current_version": current_version})
        self.current_version = current_version


class HasDependents(DomainError):
    code = "has_dependents"
    default_message = "The object still has active dependents."


class RequestTimedOut(Exception):
    """Raised in a request's thread by the gunicorn worker when the request ran past its
    `timeout` (inventory_site/gunicorn_workers.py); answered 503."""


def is_timed_out(exc: BaseException | None) -> bool:
    """`exc` is, or was raised while handling, a `RequestTimedOut` (code between the request and
    the handler may catch it and raise its own error)."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, RequestTimedOut):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False
