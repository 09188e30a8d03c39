"""`make run` on a fresh copy, without Redis: its worker (file broker) delivers a `webhook.ping`
to a receiver on 127.0.0.1, the ping asked for through the served API."""

import json
import os
import signal
import subprocess
import time
import urllib.request

import pytest

from tests.events.receiver import Receiver, wait_for
from tests.test_docs_examples import ROOT, clean_env, fresh_database, project  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow
PORT = int(os.environ.get("TEST_MAKE_RUN_PORT", "8220"))


def make_run_commands(port: int) -> list[str]:
    """What `make run` runs once its database is up (the `serve:` recipe), as the shell gets it:
    one command per logical line."""
    recipe = ROOT.joinpath("Makefile").read_text().split("\nserve:", 1)[1].split("\n\n", 1)[0]
    commands, pending = [], ""
    for line in recipe.splitlines()[1:]:
        text = line.strip()
        if not line.startswith("\t") or text.startswith("@#"):
            continue
        pending += text[:-1] + " " if text.endswith("\\") else text
        if not text.endswith("\\"):
            commands.append(pending.replace("$(BIN)", ".venv/bin").replace("$(PORT)", str(port)).replace("$$", "$"))
            pending = ""
    return commands


def pings(receiver: Receiver) -> list[dict]:
    """The `webhook.ping` bodies the receiver got."""
    return [body for body in (json.loads(r.body) for r in receiver.received) if body["type"] == "webhook.ping"]


def _post(url: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body or {}).encode(),
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_make_run_delivers_a_ping_through_its_file_broker(project, tmp_path, fresh_database):  # noqa: F811
    commands = make_run_commands(PORT)
    assert "celery -A inventory_site worker" in commands[-1] and "runserver" in commands[-1]
    env = clean_env(REDIS_URL="", CELERY_BROKER_URL="", DATABASE_URL=fresh_database)
    for command in commands[:-1]:
        done = subprocess.run(command, shell=True, cwd=project, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    log = open(tmp_path / "run.log", "w+")
    served = subprocess.Popen(
        ["bash", "-c", commands[-1]], cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health/", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline and served.poll() is None, (tmp_path / "run.log").read_text()
                time.sleep(0.5)
        token = subprocess.run(
            [".venv/bin/python", "manage.py", "drf_create_token", "admin"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[2]
        with Receiver() as receiver:
            api = f"http://127.0.0.1:{PORT}/api/v1"
            subscription = _post(f"{api}/webhooks/", token, {"url": receiver.url, "events": ["catalog.*"]})["data"]
            ping = _post(f"{api}/webhooks/{subscription['id']}/ping/", token)["data"]
            wait_for(lambda: pings(receiver), timeout=60, interval=0.5)
        # (The demo data's catalog events may arrive too: the subscription takes `catalog.*`.)
        assert [body["id"] for body in pings(receiver)] == [ping["event_id"]]
        assert (project / ".celery-broker" / "queue").is_dir()  # the embedded broker carried it
    finally:
        os.killpg(served.pid, signal.SIGTERM)
        served.wait(timeout=30)
    assert "Traceback" not in (project / ".celery-broker" / "worker.log").read_text()
