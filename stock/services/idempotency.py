"""Stored `Idempotency-Key`s: claim a key before running a request, keep its response after.

The claim is a row unique on (user, key) inserted and committed before the request
runs, so two concurrent requests with one key cannot both run: the second sees the
row without a response and is told the key is in use.
"""

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from stock.exceptions import IdempotencyKeyInUse, IdempotencyKeyReused
from stock.models import IdempotencyRecord

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# A claim this old without a response belongs to a request that died (a killed worker).
ABANDONED_AFTER = timedelta(minutes=10)
# On PostgreSQL a running request holds its claim's row lock (`idempotency_hold`), so a claim
# without a response whose lock is free belongs to a request that died (e.g. its database
# connection was cut): it is taken over once this old. The grace covers the moment between
# the claim's commit and its lock.
TAKE_OVER_AFTER = timedelta(seconds=5)


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    """SHA-256 of what makes two requests "the same request"."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), b"\n", path.encode(), b"\n", body):
        digest.update(part)
    return digest.hexdigest()


def idempotency_begin(*, user: "User", key: str, fingerprint: str) -> tuple[IdempotencyRecord, bool]:
    """Claim `key` for `user`.

    Returns `(record, True)` when the caller must run the request (and later call
    `idempotency_complete` or `idempotency_abandon`), or `(record, False)` with the
    stored response to replay. Raises `IdempotencyKeyReused` for another request under
    the same key and `IdempotencyKeyInUse` while the first one still runs.
    """
    for _attempt in range(3):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(user=user, key=key, request_fingerprint=fingerprint)
            return record, True
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            continue
        now = timezone.now()
        expired = existing.created_at < now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
        abandoned = existing.response_status is None and _claim_is_dead(existing, now)
        if expired or abandoned:
            IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
            continue
        if existing.request_fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        if existing.response_status is None:
            raise IdempotencyKeyInUse()
        return existing, False
    raise IdempotencyKeyInUse()


def _claim_is_dead(claim: IdempotencyRecord, now: datetime) -> bool:
    if claim.created_at < now - ABANDONED_AFTER:
        return True
    if claim.created_at >= now - TAKE_OVER_AFTER or not connection.features.has_select_for_update_nowait:
        return False
    try:
        with transaction.atomic():
            list(IdempotencyRecord.objects.select_for_update(nowait=True).filter(pk=claim.pk))
    except DatabaseError:
        return False  # a running request holds it
    return True


def idempotency_hold(*, record: IdempotencyRecord) -> None:
    """Lock the claim until the caller's transaction ends: while it is held, the key is in use."""
    list(IdempotencyRecord.objects.select_for_update().filter(pk=record.pk))


def idempotency_complete(*, record: IdempotencyRecord, status: int, body: Any) -> None:
    """Store the response to replay for this key."""
    IdempotencyRecord.objects.filter(pk=record.pk).update(response_status=status, response_body=body)
    record.response_status, record.response_body = status, body


def idempotency_abandon(*, record: IdempotencyRecord) -> None:
    """Free the key (the request failed with a 5xx): a retry runs again."""
    IdempotencyRecord.objects.filter(pk=record.pk).delete()


def idempotency_purge_expired() -> int:
    """Delete keys older than `IDEMPOTENCY_KEY_TTL_HOURS`; returns how many."""
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
