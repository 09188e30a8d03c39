"""`ADMIN_JOB_MAX_ATTEMPTS` holds whoever kills the worker: the pool child running an import is
SIGKILLed (as the OOM killer would) each time the job starts; the broker hands the message back
(acks late, reject on worker lost) and the job must fail after its last allowed run, not run a
fourth, fifth and sixth time. A real prefork Celery worker on Redis, nothing mocked."""

# ruff: noqa: F811 - the fixtures of the job tests, imported, are the tests' parameters
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from catalog.models import SKU
from inventory_site.jobs.models import AdminJob
from inventory_site.tasks import admin_jobs_recover
from tests.admin.test_background_jobs import (  # noqa: F401 - fixtures among them
    THRESHOLD,
    media_root,
    queued_job,
    sku_rows,
    small_threshold,
    upload,
)
from tests.events.worker import ROOT, purge_broker
from tests.reliability.server import database_url

MAX_ATTEMPTS = 3


def _pool_children(pid: int) -> list[int]:
    return [
        int(child) for task in Path(f"/proc/{pid}/task").iterdir() for child in (task / "children").read_text().split()
    ]


@pytest.fixture
def prefork_worker(transactional_db, small_threshold, media_root, settings):
    """`celery worker --pool prefork --concurrency 1` (no beat): one pool child to kill."""
    settings.ADMIN_JOB_MAX_ATTEMPTS = MAX_ATTEMPTS
    purge_broker()
    log = Path(tempfile.mkdtemp(prefix="inv_attempts_")) / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "ADMIN_SYNC_IMPORT_ROWS": str(THRESHOLD),
        "MEDIA_ROOT": str(media_root),
        "ADMIN_JOB_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        "CONN_MAX_AGE": "0",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "inventory_site",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
                "-n",
                f"attempts-test-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes():
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    process.log = log
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    purge_broker()


@pytest.mark.slow
def test_the_attempt_cap_holds_when_the_pool_child_is_killed_every_time(prefork_worker, staff_client, catalog):
    codes = [f"OOM-{i:04d}" for i in range(1500)]
    job = queued_job(upload(staff_client, "sku", sku_rows(codes)))
    for attempt in range(1, MAX_ATTEMPTS + 1):
        killed_at = time.monotonic()
        deadline = killed_at + 120
        while True:  # this run is under way: started, some rows read
            current = AdminJob.objects.get(pk=job.pk)
            if current.attempts == attempt and current.status == "running" and current.rows_done >= 20:
                break
            assert current.attempts <= attempt and time.monotonic() < deadline, (
                f"attempt {attempt}: {current.status} {current.attempts} {current.rows_done}\n"
                f"{prefork_worker.log.read_text()[-3000:]}"
            )
            if current.status == "running" and current.attempts == attempt - 1 and time.monotonic() - killed_at > 15:
                admin_jobs_recover()  # the message came back while the dead child's lock was held: the sweep's turn
            time.sleep(0.1)
        [child] = _pool_children(prefork_worker.pid)
        os.kill(child, signal.SIGKILL)  # the OOM killer's way: no cleanup, no ack
    # The broker hands the message back at once; no sweep is called here (it would end the job
    # itself): the delivery that comes back must find the cap and fail the job.
    deadline = time.monotonic() + 60
    while (current := AdminJob.objects.get(pk=job.pk)).status != "failed":
        assert current.attempts <= MAX_ATTEMPTS, f"run {current.attempts} of a job capped at {MAX_ATTEMPTS}"
        assert time.monotonic() < deadline, f"{current.status} {current.attempts}\n{prefork_worker.log.read_text()}"
        time.sleep(0.1)
    assert current.attempts == MAX_ATTEMPTS
    assert current.summary.startswith(f"The worker stopped while running this import ({MAX_ATTEMPTS} times)")
    assert not SKU.objects.filter(sku_code__startswith="OOM-").exists()
