"""The project on a machine where no server listens: a fresh copy, in a network namespace of
its own (nothing on 127.0.0.1:5432 or :6379, no DATABASE_URL, no REDIS_URL). `make run`
starts the embedded PostgreSQL, migrates and serves `/health/ready/` and the admin login;
stopped, it stops the server and keeps the data; `make test` passes a subset that uses the
database and a real Celery worker on the embedded Redis."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
SUBSET = (
    "tests/catalog/test_active_sku_count.py "
    "tests/events/test_delivery_worker.py::test_ping_is_delivered_signed_per_standard_webhooks"
)
# Run inside the namespace, from the copy. Each step prints a line the test looks for.
SCRIPT = r"""
set -euo pipefail
ip link set lo up
for port in 5432 6379 8000; do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "LISTENING $port"; exit 1; fi
done
echo "NOTHING LISTENS"
setsid make run >run.log 2>&1 &
run=$!
for _ in $(seq 240); do
  curl -s -o /dev/null http://127.0.0.1:8000/health/ready/ && break
  kill -0 $run 2>/dev/null || { cat run.log; exit 1; }
  sleep 0.25
done
echo "READY $(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8000/health/ready/)"
echo "LOGIN $(curl -s -w '%{http_code}' http://127.0.0.1:8000/admin/login/ | grep -c 'id="id_password"' || true)"
kill -TERM -- -$run
wait $run || true
port=$(.venv/bin/python -c 'from inventory_site.embedded import postgres; print(postgres.port())')
if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null
then echo "STILL RUNNING"; else echo "STOPPED"; fi
.venv/bin/python -m inventory_site.embedded -- .venv/bin/python manage.py shell -c \
  "from catalog.models import SKU; print('KEPT', SKU.objects.count())"
make test PYTEST_ARGS="-q -p no:cacheprovider $SUBSET" 2>&1 | tail -5
"""


def _unshare_works() -> bool:
    unshare = shutil.which("unshare")
    return bool(unshare) and subprocess.run([unshare, "-n", "true"], capture_output=True, check=False).returncode == 0


def _fresh_copy(target: Path) -> Path:
    """The checkout's files (tracked and new, not ignored), times kept so `make install` is
    up to date, and its virtualenv linked."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").symlink_to((ROOT / ".venv").resolve())
    return target


@pytest.mark.skipif(not _unshare_works(), reason="needs `unshare -n` (root, or user namespaces)")
def test_make_run_and_make_test_work_where_no_server_listens():
    with tempfile.TemporaryDirectory(prefix="inventory-copy-") as copy:  # not under pytest's 0700 root
        _run_where_no_server_listens(_fresh_copy(Path(copy)))


def _run_where_no_server_listens(project: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            (
                "DATABASE_URL",
                "TEST_DATABASE_URL",
                "REDIS_URL",
                "CELERY_",
                "TEST_CELERY_",
                "DJANGO_SETTINGS_MODULE",
                "EMBEDDED_",
                "PYTEST_",
                "DEBUG",
                "SECRET_KEY",
            )
        )
    }
    env["SUBSET"] = SUBSET
    done = subprocess.run(
        ["unshare", "-n", "bash", "-c", SCRIPT],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    out = done.stdout + done.stderr
    log = (project / "run.log").read_text() if (project / "run.log").exists() else ""
    assert done.returncode == 0, out + log
    assert "NOTHING LISTENS" in out, out
    assert "Embedded PostgreSQL started" in log, log
    assert "READY 200" in out and "LOGIN 1" in out, out + log
    assert "STOPPED" in out, out + log
    kept = next(line for line in out.splitlines() if line.startswith("KEPT "))
    assert int(kept.split()[1]) >= 200, out  # the demo SKUs of the first run, after a restart
    assert "Embedded Redis started" in out, out
    assert "6 passed" in out and "failed" not in out and "error" not in out.lower(), out
