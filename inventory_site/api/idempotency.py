"""`Idempotency-Key` for POST endpoints: replay the first response instead of running twice.

Decorate a viewset action with `@idempotent`. Without the header the action runs as
usual. With it, the key is claimed (per user) before the action runs; a completed
response below 500 is stored and replayed with `Idempotent-Replayed: true`; a 5xx frees
the key so that a retry runs again.
"""
import json
import logging
import re
from functools import wraps

from django.db import DatabaseError, transaction

from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from inventory_site.api.envelope import Envelope
from inventory_site.api.renderers import envelope_for
from stock.services import (
    idempotency_abandon, idempotency_begin, idempotency_complete, idempotency_hold, request_fingerprint,
)
from stock.services.levels import DEADLOCK_DETECTED, retry_on_deadlock

logger = logging.getLogger("inventory_site.api")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")


def idempotency_key(request) -> str | None:
    """The request's key, or None; a malformed key is a 400."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.match(key) or not key.strip():
        raise serializers.ValidationError(
            {HEADER: ["Must be 1-255 printable ASCII characters."]}
        )
    return key


def _body_bytes(request) -> bytes:
    """The body in a canonical form, so that key order or spacing does not make it "another body"."""
    raw = request.body
    try:
        return json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        return raw


def _stored_body(response: Response):
    return json.loads(json.dumps(envelope_for(response.data, {"response": response}), cls=JSONEncoder))


def _abandon(record) -> None:
    """Free the key after a 5xx. If the database itself is what failed, the claim stays
    and is treated as abandoned after a while (`stock.services.idempotency.ABANDONED_AFTER`);
    since the action and its stored response commit together, a claim without a response
    always means nothing was applied, so running the request again then is safe."""
    try:
        idempotency_abandon(record=record)
    except DatabaseError:
        logger.warning("could not free Idempotency-Key %s after a server error", record.pk)


class _ServerErrorResponse(Exception):
    """Carries a 5xx response out of the transaction, rolling back whatever it wrote."""

    def __init__(self, response: Response):
        super().__init__(response.status_code)
        self.response = response


def _is_deadlock(exc: Exception) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) == DEADLOCK_DETECTED


def _run_and_store(view, record, action, request, args, kwargs) -> Response:
    """Run the action and store its response in one transaction.

    Either both commit (the response is replayed from then on) or neither does (the key is
    freed and a retry runs again): the database can never hold applied stock changes whose
    key has no response to replay.
    """
    with transaction.atomic():
        idempotency_hold(record=record)
        try:
            response = action(view, request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the handler turns it into a response to store
            if _is_deadlock(exc):
                raise  # retried from the start by retry_on_deadlock
            response = view.handle_exception(exc)
        if response.status_code >= 500:
            raise _ServerErrorResponse(response)
        idempotency_complete(record=record, status=response.status_code, body=_stored_body(response))
    return response


def idempotent(action):
    """Make a viewset action honour `Idempotency-Key`."""

    @wraps(action)
    def wrapper(self, request, *args, **kwargs):
        key = idempotency_key(request)
        if key is None:
            return action(self, request, *args, **kwargs)
        fingerprint = request_fingerprint(method=request.method, path=request.path, body=_body_bytes(request))
        record, run = idempotency_begin(user=request.user, key=key, fingerprint=fingerprint)
        if not run:
            return Response(Envelope(record.response_body), status=record.response_status,
                            headers={REPLAYED_HEADER: "true"})
        try:
            return retry_on_deadlock(lambda: _run_and_store(self, record, action, request, args, kwargs))
        except _ServerErrorResponse as failed:
            _abandon(record)
            return failed.response
        except Exception:
            _abandon(record)
            raise

    return wrapper
