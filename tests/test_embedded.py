"""`python -m inventory_site.embedded -- CMD`, the wrapper of `make run` and `make test`: with a
DATABASE_URL it starts nothing and runs CMD as it is; CMD's exit status is its own (a signal:
128 + N, as a shell says). The start itself is covered where no server listens
(tests/test_no_servers.py) and by every `make test` without DATABASE_URL."""

import os
import subprocess
import sys

from inventory_site.embedded import postgres

ROOT = postgres.BASE_DIR


def wrapped(script: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "inventory_site.embedded", "--", "sh", "-c", script],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_with_a_database_url_nothing_starts_and_the_command_runs_as_given():
    done = wrapped(
        'echo "$DATABASE_URL $DJANGO_SETTINGS_MODULE"; exit 3',
        DATABASE_URL="postgres://someone@db.invalid:5432/elsewhere",
        DJANGO_SETTINGS_MODULE="tests.settings",
    )
    assert done.returncode == 3
    assert done.stdout == "postgres://someone@db.invalid:5432/elsewhere tests.settings\n"
    assert "Embedded PostgreSQL" not in done.stderr


def test_a_command_killed_by_a_signal_exits_128_plus_its_number():
    done = wrapped("kill -TERM $$", DATABASE_URL="postgres://someone@db.invalid:5432/elsewhere")
    assert done.returncode == 143


def test_the_settings_default_is_the_embedded_server_of_the_checkout(monkeypatch):
    monkeypatch.delenv("EMBEDDED_PGDATA", raising=False)
    monkeypatch.delenv("EMBEDDED_PG_PORT", raising=False)
    assert postgres.data_dir() == ROOT / ".pgdata"
    assert 20000 <= postgres.port() < 30000
    assert postgres.database_url() == f"postgres://postgres@127.0.0.1:{postgres.port()}/inventory"
    monkeypatch.setenv("EMBEDDED_PG_PORT", "25432")
    assert postgres.database_url("test_inventory") == "postgres://postgres@127.0.0.1:25432/test_inventory"
