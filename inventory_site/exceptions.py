"""The base of every domain error. Services raise these; the API maps them to HTTP.

Each app declares its own errors in `<app>/exceptions.py` by subclassing `DomainError`
with a `code` from the API contract. `inventory_site.api.exceptions` is the one place
that turns a code into an HTTP status.
"""

import threading
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


# Threads whose request the gunicorn worker interrupted, until that request ends (it may end on
# another error: a library that caught the interruption, a connection cut mid-query).
INTERRUPTED_THREADS: set[int] = set()


def is_timed_out(exc: BaseException | None) -> bool:
    """This thread's request was interrupted for running too long, or `exc` is (or was raised
    while handling) a `RequestTimedOut`."""
    if threading.get_ident() in INTERRUPTED_THREADS:
        return True
    pending: list[BaseException | None] = [exc]
    seen: set[int] = set()
    while pending and len(seen) < 50:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        if isinstance(current, RequestTimedOut):
            return True
        seen.add(id(current))
        pending += [current.__cause__, current.__context__]
    return False
