"""Celery tasks of the platform: the admin's background imports and exports, their recovery
and their purge."""

from celery import shared_task

from inventory_site.jobs import recovery, retention, runner
from inventory_site.jobs.queue import RUN_TASK


@shared_task(name=RUN_TASK)
def admin_job_run(job_id: int) -> None:
    """Run an `AdminJob` (an import or export over `ADMIN_SYNC_IMPORT_ROWS` rows)."""
    runner.run(job_id)


@shared_task(name="inventory_site.admin_jobs_recover")
def admin_jobs_recover() -> dict:
    """Queue again the jobs whose message was lost; run again or fail those whose worker died."""
    return recovery.admin_jobs_recover()


@shared_task(name="inventory_site.admin_jobs_purge")
def admin_jobs_purge() -> int:
    """Delete finished jobs past `ADMIN_JOB_RETENTION_DAYS`, with their files."""
    return retention.admin_jobs_purge_old()
