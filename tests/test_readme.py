"""The README's first steps, run as written: `make run`'s steps in a copy of the project (on its
own embedded PostgreSQL, without Redis), then the API tour's shell blocks from a "second
terminal" that has only the `.env` it left; last, its worker (file broker) delivers a
`webhook.ping` asked for through the served API."""
import csv
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from inventory_site.embedded import postgres as embedded_postgres
from tests.events.receiver import Receiver, wait_for

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("manage.py", "inventory_site", "catalog", "stock", "events", "templates", "static", "pyproject.toml")
pytestmark = pytest.mark.slow


def make_recipe(target: str) -> str:
    """The recipe of a Makefile target, up to the first blank line."""
    return ROOT.joinpath("Makefile").read_text().split(f"\n{target}:", 1)[1].split("\n\n", 1)[0]


def make_run_commands(port: int) -> list[str]:
    """What `make run` runs once the database is up (the `serve:` recipe) as the shell gets
    it: one command per logical line."""
    assert "$(EMBEDDED) -- $(MAKE) --no-print-directory serve" in make_recipe("run")
    commands, pending = [], ""
    for line in make_recipe("serve").splitlines()[1:]:
        text = line.strip()
        if not line.startswith("\t") or text.startswith("@#"):
            continue
        pending += text[:-1] + " " if text.endswith("\\") else text
        if not text.endswith("\\"):
            commands.append(pending.replace("$(BIN)", ".venv/bin").replace("$(PORT)", str(port)).replace("$$", "$"))
            pending = ""
    return commands


def _post(url: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body or {}).encode(), method="POST", headers={
        "Authorization": f"Token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def readme_blocks(first: str, last: str) -> list[str]:
    text = ROOT.joinpath("README.md").read_text()
    section = text[text.index(first):text.index(last)]
    return re.findall(r"```bash\n(.*?)```", section, re.S)


def readme_commands() -> dict[str, str]:
    """The examples of the README's commands table (`python manage.py ...`), by their command line."""
    text = ROOT.joinpath("README.md").read_text()
    section = text[text.index("## manage.py commands"):text.index("## Events and webhooks")]
    found = re.findall(r"`python manage\.py ([^`]+)`", section)
    assert len(found) >= 7, found
    return {line: f".venv/bin/python manage.py {line}" for line in found}


def run_example(command: str, cwd: Path, env: dict) -> None:
    done = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, (command, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, (command, done.stderr)


def expected_statuses(script: str) -> list[int]:
    """The status each `curl` call is annotated with (`# 201, ...`), in order."""
    statuses = []
    for command in script.replace("\\\n", " ").splitlines():
        if "curl " in command:
            found = re.search(r"#\s*(\d{3})\b", command)
            assert found, f"README curl call without its expected status: {command.strip()}"
            statuses.append(int(found.group(1)))
    return statuses


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def project(monkeypatch):
    """A fresh copy of the project (no .env), sharing the virtualenv, with its own embedded
    PostgreSQL running (empty, in the copy's .pgdata/) as `make run` starts it. Not under
    pytest's temporary root: pytest closes that to others, the server's user among them."""
    copy = Path(tempfile.mkdtemp(prefix="inventory-copy-")) / "project"
    copy.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, copy / name)
    (copy / ".venv").symlink_to((ROOT / ".venv").resolve())
    monkeypatch.setenv("EMBEDDED_PGDATA", str(copy / ".pgdata"))  # this process's view of the copy's server
    monkeypatch.delenv("EMBEDDED_PG_PORT", raising=False)
    try:
        embedded_postgres.start()
        yield copy
    finally:
        embedded_postgres.stop()
        shutil.rmtree(copy.parent)


def clean_env(**extra) -> dict:
    """A terminal's environment: none of the settings the test suite itself runs with."""
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.pop("ADMIN_PASSWORD", None)
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


def test_make_run_then_the_readme_tours_run_as_written(project, tmp_path):
    port = free_port()
    steps = make_run_commands(port)
    assert all(".venv/bin/python manage.py" in step for step in steps[:-1]), steps
    assert "celery -A inventory_site worker" in steps[-1] and steps[-1].endswith(f"runserver 127.0.0.1:{port}")
    first_terminal = clean_env(REDIS_URL="", CELERY_BROKER_URL="")
    printed = ""
    for step in steps[:-1]:
        done = subprocess.run(step, shell=True, cwd=project, env=first_terminal, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (step, done.stdout, done.stderr)
        printed += done.stdout
    env_file = (project / ".env").read_text()
    assert "DEBUG=true" in env_file and re.search(r"^SECRET_KEY=\S{40,}$", env_file, re.M)
    assert f"Admin: http://127.0.0.1:{port}/admin/  login: admin  password: " in printed
    # A re-run of `make run` prints the login again and the README's command to reset the password.
    rerun = subprocess.run(steps[-2], shell=True, cwd=project, env=first_terminal, capture_output=True, text=True,
                           check=False, timeout=120)
    reset = ".venv/bin/python manage.py changepassword admin"
    assert f"Admin: http://127.0.0.1:{port}/admin/  login: admin" in rerun.stdout and reset in rerun.stdout, rerun
    assert f"`{reset}`" in ROOT.joinpath("README.md").read_text()

    log = open(tmp_path / "server.log", "w+")
    server = subprocess.Popen(["bash", "-c", steps[-1]], cwd=project, env=first_terminal, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, open(tmp_path / "server.log").read()
                time.sleep(0.5)

        # The second terminal: nothing but the .env that `make run` left.
        curl_home = tmp_path / "curl"
        curl_home.mkdir()
        (curl_home / ".curlrc").write_text('write-out = "%{stderr}HTTP %{http_code}\\n"\n')
        script = "\n".join(readme_blocks("## API tour: the catalog", "### How reservation expiry works"))
        script = script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        done = subprocess.run(["bash", "-c", "set -o pipefail\n" + script], cwd=project, capture_output=True,
                              text=True, timeout=300, env=clean_env(CURL_HOME=str(curl_home)))
        answered = [int(code) for code in re.findall(r"^HTTP (\d{3})$", done.stderr, re.M)]
        assert answered == expected_statuses(script), done.stdout + done.stderr
        assert "Traceback" not in done.stderr and "SECRET_KEY" not in done.stderr
        # The commands table, in the same second terminal: each example as written (run with the
        # project's interpreter), files it reads made first by the README's own export.
        examples = readme_commands()
        second = clean_env()
        run_example(examples["export_catalog > catalog.csv"], project, second)
        with open(project / "catalog.csv", newline="", encoding="utf-8") as exported:
            code = next(row["sku_code"] for row in csv.DictReader(exported) if row["sku_code"])
        (project / "count.csv").write_text(f"sku_code,counted\n{code},5\n")
        for command in examples.values():
            run_example(command, project, second)
        assert (project / "low.csv").read_text().startswith("warehouse,sku_code,")
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/readme-no-such-page/", timeout=5)
        webhook_ping_is_delivered(project, port)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert "Traceback" not in (project / ".celery-broker" / "worker.log").read_text()
    logged = open(tmp_path / "server.log").read()
    # Dev logs print once: the reloader's start line and a 404's warning, not twice each.
    assert logged.count("Watching for file changes") == 1, logged
    assert logged.count("Not Found: /readme-no-such-page/") == 1, logged


def webhook_ping_is_delivered(project: Path, port: int) -> None:
    """`make run`'s worker, on its file broker, delivers a ping to a receiver on 127.0.0.1."""
    token = subprocess.run([".venv/bin/python", "manage.py", "drf_create_token", "admin"], cwd=project,
                           env=clean_env(), capture_output=True, text=True, check=True).stdout.split()[2]
    with Receiver() as receiver:
        api = f"http://127.0.0.1:{port}/api/v1"
        subscription = _post(f"{api}/webhooks/", token, {"url": receiver.url, "events": ["catalog.*"]})["data"]
        ping = _post(f"{api}/webhooks/{subscription['id']}/ping/", token)["data"]
        try:
            wait_for(lambda: receiver.received, timeout=120, interval=0.5)
        except AssertionError:
            raise AssertionError((project / ".celery-broker" / "worker.log").read_text()[-5000:]) from None
    body = json.loads(receiver.received[0].body)
    assert (body["type"], body["id"]) == ("webhook.ping", ping["event_id"])
    assert (project / ".celery-broker" / "queue").is_dir()  # the embedded broker carried it
