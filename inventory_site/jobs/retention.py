"""Finished jobs older than `ADMIN_JOB_RETENTION_DAYS` are deleted with their files."""

import datetime
import logging

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from inventory_site.jobs.models import AdminJob

logger = logging.getLogger(__name__)

PURGE_BATCH = 500


def admin_jobs_purge_old(*, now: datetime.datetime | None = None) -> int:
    """Delete the finished jobs that ended before the retention, and their stored files
    (upload or export); queued and running jobs are kept whatever their age. Returns how many."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.ADMIN_JOB_RETENTION_DAYS)
    old = AdminJob.objects.filter(status__in=AdminJob.FINISHED).filter(
        Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    )
    removed = 0
    while True:
        batch = list(old.order_by("pk").values_list("pk", "file")[:PURGE_BATCH])
        if not batch:
            return removed
        removed += AdminJob.objects.filter(pk__in=[pk for pk, _ in batch]).delete()[0]
        # The rows first: a file whose deletion fails is only an orphan, never a job without its file.
        for pk, name in batch:
            if name:
                try:
                    AdminJob._meta.get_field("file").storage.delete(name)
                except OSError:
                    logger.exception("the file %s of admin job %s could not be deleted", name, pk)
