"""Jobs whose message was lost: the sweep hands them to the worker again, or ends them.

A job `queued` longer than `ADMIN_JOB_REQUEUE_MINUTES` is sent again (the broker lost the
message, or it was down when the job was made). A job `running` whose run lock (the runner's
advisory lock, held on the worker's connection for the whole run) nobody holds lost its worker:
no run of it can have committed, since an import's rows and its `succeeded` commit in one
transaction and an export writes `succeeded` last, so it is run again from the start, up to
`ADMIN_JOB_MAX_ATTEMPTS` runs; after that it fails with a sentence. A message delivered twice
is harmless (the lock and `claim` let one run, once).
"""

import datetime
import logging

from django.conf import settings
from django.utils import timezone

from inventory_site.jobs.models import AdminJob
from inventory_site.jobs.queue import send
from inventory_site.jobs.runner import AGAIN, WORKER_LOST, finish, running_alone

logger = logging.getLogger(__name__)


def admin_jobs_recover(*, now: datetime.datetime | None = None) -> dict:
    """Queue again the jobs queued too long, and run again (or fail) the running jobs that lost
    their worker. Returns how many were `requeued` and `failed`."""
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0}
    stale = now - datetime.timedelta(minutes=settings.ADMIN_JOB_REQUEUE_MINUTES)
    for job_id in AdminJob.objects.filter(status=AdminJob.Status.QUEUED, queued_at__lt=stale).values_list(
        "pk", flat=True
    ):
        if AdminJob.objects.filter(pk=job_id, status=AdminJob.Status.QUEUED).update(queued_at=now) and send(job_id):
            counts["requeued"] += 1
    for job_id in AdminJob.objects.filter(status=AdminJob.Status.RUNNING).values_list("pk", flat=True):
        outcome = _recover_running(job_id, now)
        if outcome:
            counts[outcome] += 1
    return counts


def _recover_running(job_id: int, now: datetime.datetime) -> str | None:
    with running_alone(job_id) as alone:
        if not alone:
            return None  # its worker is at it
        # Holding its lock: no worker can start it meanwhile; read it again (it may have just finished).
        job = AdminJob.objects.filter(pk=job_id, status=AdminJob.Status.RUNNING).select_related("user").first()
        if job is None:
            return None
        if job.attempts >= settings.ADMIN_JOB_MAX_ATTEMPTS:
            logger.error("admin job %s lost its worker %s times: failed", job.pk, job.attempts)
            finish(
                job,
                AdminJob.Status.FAILED,
                WORKER_LOST.format(kind=job.kind, attempts=job.attempts, again=AGAIN[job.kind]),
            )
            return "failed"
        logger.warning("admin job %s lost its worker: queued again", job.pk)
        AdminJob.objects.filter(pk=job.pk).update(status=AdminJob.Status.QUEUED, rows_done=0, queued_at=now)
    send(job_id)  # after the lock is released, or the worker would find it taken and drop the message
    return "requeued"
