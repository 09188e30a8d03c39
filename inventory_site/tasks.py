"""Celery tasks of the platform: the admin's background imports and exports."""
from celery import shared_task

from inventory_site.jobs import runner


@shared_task(name="inventory_site.admin_job_run")
def admin_job_run(job_id: int) -> None:
    """Run an `AdminJob` (an import or export over `ADMIN_SYNC_IMPORT_ROWS` rows)."""
    runner.run(job_id)
