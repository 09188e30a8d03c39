"""The response envelope of the API contract.

Views return plain data; `EnvelopeJSONRenderer` wraps it. Code that has already built a
whole envelope (pagination, the exception handler) returns an `Envelope`, which the
renderer passes through untouched.
"""

from typing import Any


class Envelope(dict):
    """A response body that already is an envelope."""


def success(data: Any, *, message: str = "OK", meta: dict | None = None) -> Envelope:
    return Envelope(status="success", data=data, message=message, meta=meta)


def error(code: str, message: str, errors: Any = None) -> Envelope:
    return Envelope(status="error", data=None, message=message, code=code, errors=errors)
