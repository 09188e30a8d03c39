"""Handing a job to the worker: one task, sent by name (the tasks module builds on this package,
not the other way round)."""

import logging

from celery import current_app

logger = logging.getLogger(__name__)

RUN_TASK = "inventory_site.admin_job_run"


def send(job_id: int) -> bool:
    """Queue the job's run; False when the broker cannot be reached (its errors are many:
    connection, timeout, auth; all mean "not queued")."""
    try:
        current_app.send_task(RUN_TASK, args=[job_id])
    except Exception:  # reported to the caller as False
        logger.warning("admin job %s could not be queued", job_id, exc_info=True)
        return False
    return True
