"""`Idempotency-Key` for POST endpoints: replay the first response instead of running twice.

The plumbing only: an app that keeps the keys builds its decorator with
`idempotent_with(KeyStore(...))` and decorates viewset actions with it. Without the
header the action runs as usual. With it, the key is claimed (per user) before the
action runs; a completed response below 500 is stored and replayed with
`Idempotent-Replayed: true`; a 5xx frees the key so that a retry runs again.
"""

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.db import DatabaseError, transaction
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from inventory_site.api.envelope import Envelope
from inventory_site.api.renderers import envelope_for
from inventory_site.transactions import is_deadlock, retry_on_deadlock

logger = logging.getLogger("inventory_site.api")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")


@dataclass
class KeyStore:
    """Where claimed keys and their responses are kept; each is a keyword-only service.

    - `fingerprint(method, path, body) -> str`: what makes two requests "the same request";
    - `begin(user, key, fingerprint) -> (record, run)`: claim the key; `run` False means
      replay `record.response_status` / `record.response_body`; raises a domain error when
      the key was used for another request or is still in use;
    - `hold(record)`: lock the claim until the caller's transaction ends;
    - `complete(record, status, body)`: store the response to replay;
    - `abandon(record)`: free the key after a 5xx.
    """

    fingerprint: Callable[..., str]
    begin: Callable[..., tuple[Any, bool]]
    hold: Callable[..., None]
    complete: Callable[..., None]
    abandon: Callable[..., None]


def idempotency_key(request) -> str | None:
    """The request's key, or None; a malformed key is a 400."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.match(key) or not key.strip():
        raise serializers.ValidationError({HEADER: ["Must be 1-255 printable ASCII characters."]})
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


def _abandon(store: KeyStore, record) -> None:
    """Free the key after a 5xx. If the database itself is what failed, the claim stays
    and the store treats it as abandoned after a while; since the action and its stored
    response commit together, a claim without a response always means nothing was
    applied, so running the request again then is safe."""
    try:
        store.abandon(record=record)
    except DatabaseError:
        logger.warning("could not free Idempotency-Key %s after a server error", record.pk)


class _ServerErrorResponse(Exception):
    """Carries a 5xx response out of the transaction, rolling back whatever it wrote."""

    def __init__(self, response: Response):
        super().__init__(response.status_code)
        self.response = response


def _run_and_store(store: KeyStore, view, record, action, request, args, kwargs) -> Response:
    """Run the action and store its response in one transaction.

    Either both commit (the response is replayed from then on) or neither does (the key is
    freed and a retry runs again): the database can never hold applied stock changes whose
    key has no response to replay.
    """
    with transaction.atomic():
        store.hold(record=record)
        try:
            response = action(view, request, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the handler turns it into a response to store
            if is_deadlock(exc):
                raise  # retried from the start by retry_on_deadlock
            response = view.handle_exception(exc)
        if response.status_code >= 500:
            raise _ServerErrorResponse(response)
        store.complete(record=record, status=response.status_code, body=_stored_body(response))
    return response


def idempotent_with(store: KeyStore) -> Callable:
    """A decorator that makes a viewset action honour `Idempotency-Key`, keeping keys in `store`."""

    def idempotent(action):
        @wraps(action)
        def wrapper(self, request, *args, **kwargs):
            key = idempotency_key(request)
            if key is None:
                return action(self, request, *args, **kwargs)
            fingerprint = store.fingerprint(method=request.method, path=request.path, body=_body_bytes(request))
            record, run = store.begin(user=request.user, key=key, fingerprint=fingerprint)
            if not run:
                return Response(
                    Envelope(record.response_body), status=record.response_status, headers={REPLAYED_HEADER: "true"}
                )
            try:
                return retry_on_deadlock(lambda: _run_and_store(store, self, record, action, request, args, kwargs))
            except _ServerErrorResponse as failed:
                _abandon(store, record)
                return failed.response
            except Exception:
                _abandon(store, record)
                raise

        return wrapper

    return idempotent
