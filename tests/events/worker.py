"""A real Celery worker process (with beat inside) on the test database and Redis DB 5."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def purge_broker() -> None:
    """Drop this suite's queued messages (keys under its prefix) left by earlier tests."""
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)


class Worker:
    """`celery -A inventory_site worker -B` as a subprocess; `kill()` sends SIGKILL."""

    def __init__(
        self,
        *,
        database_url: str,
        concurrency: int = 4,
        pool: str = "threads",
        settings_module: str = "tests.settings",
        **env: str,
    ):
        self.database_url = database_url
        self.concurrency = concurrency
        self.pool = pool
        self.env = env
        self.settings_module = settings_module
        self.process = None
        self.workdir = tempfile.mkdtemp(prefix="inv_events_worker_")
        self.log_path = Path(self.workdir) / "worker.log"

    def start(self, timeout: float = 30) -> "Worker":
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": self.settings_module,
            "DATABASE_URL": self.database_url,
            "WEBHOOK_ALLOW_HTTP": "true",
            "WEBHOOK_ALLOW_PRIVATE_URLS": "true",
            "CONN_MAX_AGE": "0",
            **self.env,
        }
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "inventory_site",
                "worker",
                "-B",
                "--schedule",
                str(Path(self.workdir) / "beat-schedule"),
                "--pool",
                self.pool,
                "--concurrency",
                str(self.concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
                "-n",
                f"events-test-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while b"ready." not in self.log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{self.output()}")
            time.sleep(0.2)
        return self

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def kill(self) -> None:
        """SIGKILL the whole worker (pool processes too): no chance to finish anything."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
