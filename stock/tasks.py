"""Celery tasks of the stock app (the schedule is in settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from stock import services


@shared_task(name="stock.expire_reservations")
def expire_reservations() -> int:
    """Record the expiry of overdue reservations (every minute)."""
    return services.reservations_expire()


@shared_task(name="stock.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Delete idempotency keys older than `IDEMPOTENCY_KEY_TTL_HOURS` (daily)."""
    return services.idempotency_purge_expired()
