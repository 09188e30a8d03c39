"""The documentation, run as written: `make run`'s steps in a copy of the project on a fresh
PostgreSQL database, then every ```bash block of the docs site (pages in nav order) from a
"second terminal" that has only the `.env` it left, each answer checked against what the docs
show (status, the fields and headers shown, `prints:`). The conventions: tests/docs_examples.py."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.docs_examples import CURL_WRAPPER, check_calls, nav_pages, parse

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("manage.py", "inventory_site", "catalog", "stock", "events", "templates", "static", "pyproject.toml")
pytestmark = pytest.mark.slow


def make_run_steps(port: int) -> list[str]:
    """The `manage.py` lines of what `make run` runs once its database is up (the Makefile's
    `serve:` recipe), as the shell would get them."""
    assert "$(EMBEDDED) -- $(MAKE) --no-print-directory serve" in ROOT.joinpath("Makefile").read_text()
    recipe = ROOT.joinpath("Makefile").read_text().split("\nserve:", 1)[1].split("\n\n", 1)[0]
    steps = []
    for line in recipe.splitlines()[1:]:
        if line.startswith("\t") and "manage.py" in line:
            steps.append(line.strip().replace("$(BIN)", ".venv/bin").replace("$(PORT)", str(port)).replace("$$", "$"))
    return steps


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def project(tmp_path):
    """A fresh copy of the project (no .env, no database), sharing the virtualenv."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, copy / name)
    (copy / ".venv").symlink_to((ROOT / ".venv").resolve())
    return copy


def clean_env(**extra) -> dict:
    """A terminal's environment: none of the settings the test suite itself runs with."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.pop("ADMIN_PASSWORD", None)
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


@pytest.fixture
def fresh_database():
    """A new, empty PostgreSQL database on the test server, dropped afterwards."""
    server = settings.DATABASES["default"]
    name = f"{server['NAME'].removeprefix('test_')}_docs_examples"[:63]
    admin = psycopg.connect(
        host=server["HOST"] or "127.0.0.1",
        port=server["PORT"] or 5432,
        user=server["USER"],
        password=server["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    user = server["USER"] + (f":{server['PASSWORD']}" if server["PASSWORD"] else "")
    yield f"postgres://{user}@{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}/{name}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def wait_for(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            assert time.monotonic() < deadline and server.poll() is None, log.read_text()
            time.sleep(0.5)


def test_make_run_then_every_docs_example_runs_as_written(project, tmp_path, fresh_database):
    port = free_port()
    steps = make_run_steps(port)
    assert steps[-1].endswith(f"runserver 127.0.0.1:{port}"), steps
    first_terminal = clean_env(DATABASE_URL=fresh_database)
    printed = ""
    for step in steps[:-1]:
        done = subprocess.run(
            step, shell=True, cwd=project, env=first_terminal, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, (step, done.stdout, done.stderr)
        printed += done.stdout
    env_file = (project / ".env").read_text()
    assert "DEBUG=true" in env_file and re.search(r"^SECRET_KEY=\S{40,}$", env_file, re.M)
    assert f"DATABASE_URL={fresh_database}" in env_file
    assert f"Admin: http://127.0.0.1:{port}/admin/  login: admin  password: " in printed
    # A re-run of `make run` prints the login again and the documented command to reset the password.
    rerun = subprocess.run(
        steps[-2], shell=True, cwd=project, env=first_terminal, capture_output=True, text=True, check=False, timeout=120
    )
    reset = ".venv/bin/python manage.py changepassword admin"
    assert f"Admin: http://127.0.0.1:{port}/admin/  login: admin" in rerun.stdout and reset in rerun.stdout, rerun
    assert f"`{reset}`" in (ROOT / "docs" / "getting-started.md").read_text()

    server_log = tmp_path / "server.log"
    with open(server_log, "w+") as log:
        server = subprocess.Popen(
            steps[-1],
            shell=True,
            cwd=project,
            env=first_terminal,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/health/", server, server_log)
        # The second terminal: nothing but the .env that `make run` left.
        script, calls = parse(nav_pages())
        assert len(calls) >= 80, "the docs' curl calls were not found"
        docs_log = tmp_path / "answers"
        docs_log.mkdir()
        (docs_log / "count").write_text("0")
        script = script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        done = subprocess.run(
            ["bash", "-c", CURL_WRAPPER + script],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=600,
            env=clean_env(DOCS_LOG=str(docs_log)),
            check=False,
        )
        problems = check_calls(calls, docs_log)
        assert not problems and done.returncode == 0, "\n".join(problems) + "\n" + done.stderr[-3000:]
        assert "Traceback" not in done.stderr and "SECRET_KEY" not in done.stderr, done.stderr
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/docs-no-such-page/", timeout=5)
        time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    logged = server_log.read_text()
    # Dev logs print once: the reloader's start line and a 404's warning, not twice each.
    assert logged.count("Watching for file changes") == 1, logged
    assert logged.count("Not Found: /docs-no-such-page/") == 1, logged
