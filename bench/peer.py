"""The seed's stack (../shared/peer), served beside the project (the comparison: bench.versus)."""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path

from bench.config import PEER_DB, PEER_DIR, log
from bench.processes import Server, free_port


def start_peer(workers: int, log_path: Path) -> subprocess.Popen | None:
    """Start `../shared/peer/serve.sh` (it makes its venv and seeds its database on first use);
    None, with a printed line, when the shared folder is absent."""
    serve = PEER_DIR / "serve.sh"
    if not serve.exists():
        log(f"peer skipped: {serve} not found (the comparison with the seed's stack needs ../shared/peer)")
        return None
    port = free_port()
    env = {**os.environ, "PEER_WORKERS": str(workers)}
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            ["bash", str(serve), str(port), PEER_DB],
            cwd=PEER_DIR,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    proc.peer_port = port  # type: ignore[attr-defined]
    proc.peer_log = log_path  # type: ignore[attr-defined]
    return proc


def wait_for_peer(proc: subprocess.Popen | None, *, timeout: float = 600) -> Server | None:
    """The started peer once it answers /health (its token read from serve.sh's first line)."""
    if proc is None:
        return None
    base = f"http://127.0.0.1:{proc.peer_port}"
    deadline = time.monotonic() + timeout
    token = None
    while True:
        if proc.poll() is not None:
            log(f"peer skipped: serve.sh exited ({proc.returncode}); see {proc.peer_log}")
            return None
        if token is None:
            found = re.search(r"^PEER_TOKEN=(\w+)", proc.peer_log.read_text(errors="replace"), re.M)
            token = found.group(1) if found else None
        if token is not None:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as response:
                    if response.status == 200:
                        return Server("peer", base, token, proc.pid, database=PEER_DB)
            except OSError:
                pass
        if time.monotonic() > deadline:
            log(f"peer skipped: no answer on /health in {timeout:.0f} s; see {proc.peer_log}")
            return None
        time.sleep(0.5)
