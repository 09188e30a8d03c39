"""The upkeep of the background admin jobs: the purge of old finished jobs and their files, the
recovery of jobs whose message or worker was lost, and a broker down when a job is queued.
Real PostgreSQL, Redis and worker process; the sweeps are called as the beat calls them."""

# ruff: noqa: F811 - the fixtures of the job tests, imported, are the tests' parameters
import datetime
import socket
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from catalog.models import SKU
from inventory_site.jobs import runner
from inventory_site.jobs.models import AdminJob
from inventory_site.tasks import admin_jobs_purge, admin_jobs_recover
from tests.admin.test_background_jobs import (  # noqa: F401 - fixtures among them
    THRESHOLD,
    media_root,
    page,
    queued_job,
    sku_rows,
    small_threshold,
    upload,
    wait_finished,
    worker,
)
from tests.events.worker import Worker
from tests.reliability.server import database_url
from tests.reliability.world import row_counts

EXPORT_FORM = {"query": "", "post": {"format": ["0"], "resource": ["0"], "skuresource_sku_code": ["on"]}}


def days_ago(days: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def stored(job: AdminJob) -> Path:
    return Path(job.file.path)


def make_job(
    user,
    *,
    status="succeeded",
    kind="export",
    finished_days=None,
    content=b"sku_code\nA\n",
    file_name="SKU.csv",
    **fields,
):
    job = AdminJob.objects.create(
        kind=kind,
        model_label="catalog.sku",
        file_format="csv",
        user=user,
        status=status,
        file_name=file_name,
        finished_at=None if finished_days is None else days_ago(finished_days),
        **fields,
    )
    if content is not None:
        job.file.save("SKU.csv", ContentFile(content))
    return job


# --- the purge ----------------------------------------------------------------------------------


def test_finished_jobs_past_the_retention_are_deleted_with_their_files(staff, small_threshold, settings):
    settings.ADMIN_JOB_RETENTION_DAYS = 7
    old_export = make_job(staff, finished_days=8)
    old_failed = make_job(staff, kind="import", status="failed", finished_days=30)
    recent = make_job(staff, finished_days=6)
    old_running = make_job(staff, kind="import", status="running", created_at=days_ago(20))
    old_queued = make_job(staff, kind="import", status="queued", created_at=days_ago(20))
    gone = [stored(old_export), stored(old_failed)]
    assert all(path.exists() for path in gone)

    assert admin_jobs_purge() == 2  # the task as the beat runs it

    assert set(AdminJob.objects.values_list("pk", flat=True)) == {recent.pk, old_running.pk, old_queued.pk}
    assert not any(path.exists() for path in gone)
    assert all(stored(job).exists() for job in (recent, old_running, old_queued))
    assert admin_jobs_purge() == 0


def test_the_retention_is_a_setting(staff, small_threshold, settings):
    job = make_job(staff, finished_days=2)
    settings.ADMIN_JOB_RETENTION_DAYS = 3
    assert admin_jobs_purge() == 0
    settings.ADMIN_JOB_RETENTION_DAYS = 1
    assert admin_jobs_purge() == 1
    assert not AdminJob.objects.filter(pk=job.pk).exists()


def test_the_beat_runs_the_purge_daily_and_the_recovery_every_minute(settings):
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["inventory_site.admin_jobs_purge"] == 86400.0
    assert schedule["inventory_site.admin_jobs_recover"] == 60.0
    assert schedule["events.purge"] == 86400.0  # beside the other purges


# --- the recovery ---------------------------------------------------------------------------------


def _sku_import_job(user, codes, **fields) -> AdminJob:
    return make_job(
        user,
        kind="import",
        content=sku_rows(codes).encode(),
        file_name="big.csv",
        params={"format": "0", "resource": "0"},
        rows_total=len(codes),
        finished_days=None,
        **fields,
    )


@pytest.mark.slow
def test_a_queued_job_whose_message_was_lost_is_sent_again_and_runs(worker, staff_client, staff, catalog):
    codes = [f"LOST-{i}" for i in range(7)]
    lost = _sku_import_job(staff, codes, status="queued", queued_at=timezone.now() - datetime.timedelta(minutes=6))
    fresh = _sku_import_job(staff, ["FRESH-1"], status="queued")  # its message may still be on the way

    assert admin_jobs_recover() == {"requeued": 1, "failed": 0}

    status = wait_finished(staff_client, lost, worker)
    assert status["status"] == "succeeded", worker.output()
    assert status["summary"] == "Import finished: 7 new, 0 updated, 0 deleted and 0 skipped SKUs."
    assert sorted(SKU.objects.filter(sku_code__startswith="LOST-").values_list("sku_code", flat=True)) == codes
    fresh.refresh_from_db()
    assert fresh.status == "queued" and not SKU.objects.filter(sku_code="FRESH-1").exists()
    assert admin_jobs_recover() == {"requeued": 0, "failed": 0}


@pytest.mark.slow
def test_an_import_whose_worker_died_is_run_again_from_the_start(worker, staff_client, staff, catalog):
    """Its run lock is free (the worker's connection went with it) and nothing of it committed:
    the sweep queues it again and the worker imports every row, once."""
    codes = [f"DIED-{i}" for i in range(6)]
    died = _sku_import_job(staff, codes, status="running", attempts=1, rows_done=3, started_at=days_ago(0.01))

    assert admin_jobs_recover() == {"requeued": 1, "failed": 0}

    status = wait_finished(staff_client, died, worker)
    assert status["status"] == "succeeded", worker.output()
    died.refresh_from_db()
    assert died.attempts == 2
    assert SKU.objects.filter(sku_code__startswith="DIED-").count() == 6


@pytest.mark.slow
def test_an_import_whose_worker_was_killed_mid_run_is_imported_once_by_the_next(
    worker, staff_client, staff, catalog, media_root
):
    """SIGKILL the worker in the middle of an import (its message stays unacknowledged in Redis
    for the visibility timeout, an hour): the job shows running, its lock went with the worker's
    connection, nothing of it committed. The sweep sends it again and a new worker imports it."""
    codes = [f"KILL-{i:04d}" for i in range(1500)]
    job = queued_job(upload(staff_client, "sku", sku_rows(codes)))
    deadline = time.monotonic() + 60
    while AdminJob.objects.get(pk=job.pk).rows_done < 50:
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.1)
    worker.kill()
    job.refresh_from_db()
    assert job.status == "running" and job.attempts == 1
    assert not SKU.objects.filter(sku_code__startswith="KILL-").exists()  # the open transaction died with it

    deadline = time.monotonic() + 10
    while (outcome := admin_jobs_recover()) == {"requeued": 0, "failed": 0}:  # the server drops the dead session
        assert time.monotonic() < deadline, "the killed worker's lock was never released"
        time.sleep(0.2)
    assert outcome == {"requeued": 1, "failed": 0}
    with Worker(
        database_url=database_url(), concurrency=2, ADMIN_SYNC_IMPORT_ROWS=str(THRESHOLD), MEDIA_ROOT=str(media_root)
    ) as second:
        status = wait_finished(staff_client, job, second, timeout=240)
    assert status["status"] == "succeeded", second.output()
    assert status["summary"] == "Import finished: 1500 new, 0 updated, 0 deleted and 0 skipped SKUs."
    assert SKU.objects.filter(sku_code__startswith="KILL-").count() == 1500
    assert AdminJob.objects.get(pk=job.pk).attempts == 2


def test_a_running_job_whose_lock_is_held_is_left_to_its_worker(staff, small_threshold, catalog):
    job = _sku_import_job(staff, ["HELD-1"], status="running", attempts=1)
    other = connections.create_connection("default")  # the worker running it
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [runner.JOB_LOCK_NAMESPACE, job.pk])
        assert admin_jobs_recover() == {"requeued": 0, "failed": 0}
        job.refresh_from_db()
        assert (job.status, job.attempts, job.summary) == ("running", 1, "")
    finally:
        other.close()


def test_a_job_whose_worker_died_too_often_fails_with_a_sentence(staff_client, staff, small_threshold, catalog):
    job = _sku_import_job(staff, [f"OOM-{i}" for i in range(6)], status="running", attempts=3, rows_done=4)
    counts = row_counts()

    assert admin_jobs_recover() == {"requeued": 0, "failed": 1}

    job.refresh_from_db()
    assert job.status == "failed" and job.finished_at is not None
    sentence = (
        "The worker stopped while running this import (3 times); nothing was written. "
        "Upload the file again. If it stops again, tell the administrator."
    )
    assert job.summary == sentence
    assert sentence in page(staff_client, job)
    assert staff_client.get(reverse("admin:inventory_site_adminjob_status", args=[job.pk])).json()["finished"] is True
    assert row_counts() == counts
    assert not SKU.objects.filter(sku_code__startswith="OOM-").exists()


# --- a broker down when the job is queued -------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed when the socket is: nothing listens there


@contextmanager
def broker_at(url: str):
    """The app's broker is `url` until the block ends (its connection pools are made again both ways)."""
    from inventory_site.celery import app

    def reset_pools():
        app._pool = None
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    app.conf.broker_url = url
    reset_pools()
    try:
        yield
    finally:
        app.conf.broker_url = previous
        reset_pools()
        with app.connection_for_write() as restored:
            restored.ensure_connection(max_retries=1)  # the tests after this one queue to Redis again


@pytest.mark.django_db(transaction=True)
def test_a_broker_down_fails_the_upload_with_a_message_and_imports_nothing(staff_client, catalog, small_threshold):
    counts = {label: n for label, n in row_counts().items() if not label.startswith("inventory_site.")}
    with broker_at(f"redis://127.0.0.1:{closed_port()}/0"):
        response = upload(staff_client, "sku", sku_rows([f"DOWN-{i}" for i in range(THRESHOLD + 2)]))
    job = queued_job(response)
    message = (
        "The background queue could not be reached, so the import was not started and nothing was "
        "written. Try again in a few minutes."
    )
    assert (job.status, job.summary) == ("failed", message)
    body = staff_client.get(response["Location"]).content.decode()
    assert message in body
    assert "is queued and runs in the background" not in body
    assert {label: n for label, n in row_counts().items() if not label.startswith("inventory_site.")} == counts
    assert not SKU.objects.filter(sku_code__startswith="DOWN-").exists()
    assert admin_jobs_recover() == {"requeued": 0, "failed": 0}  # failed: the user uploads again
