"""The seed's stack (../shared/peer), served beside the project, and the rows comparing the two."""
from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path

from bench.config import PEER_DB, PEER_DIR, log
from bench.processes import Server, free_port
from bench.report import make_entry


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
        proc = subprocess.Popen(["bash", str(serve), str(port), PEER_DB], cwd=PEER_DIR, env=env, stdout=out,
                                stderr=out, start_new_session=True)
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


P99_TARGET_MS = 250.0

def peer_entry(name: str, path: str, ours: dict, theirs: dict | None, *, target: float, rate_of=None,
               ok: bool = True, **extra) -> dict:
    """One row of the side-by-side comparison: this service's figure against the peer's, same run."""
    rate = rate_of or (lambda report: report["rps"])
    figure = rate(ours)
    entry = make_entry(
        "PEER", name, figure, "req/s", rate(theirs) if theirs else None,
        "the seed's stack (FastAPI, ../shared/peer), same load", target=target if theirs else None,
        ok=ok and ours["server_errors"] == 0 and (theirs is None or theirs["server_errors"] == 0),
        path=path, p50_ms=ours["p50_ms"], p99_ms=ours["p99_ms"],
        peer_p50_ms=theirs["p50_ms"] if theirs else None, peer_p99_ms=theirs["p99_ms"] if theirs else None,
        cpu_ms_per_request=ours.get("server_cpu_ms_per_request"),
        peer_cpu_ms_per_request=theirs.get("server_cpu_ms_per_request") if theirs else None,
        db_cpu_ms_per_request=ours.get("db_cpu_ms_per_request"),
        peer_db_cpu_ms_per_request=theirs.get("db_cpu_ms_per_request") if theirs else None,
        statuses=ours["statuses"], peer_statuses=theirs["statuses"] if theirs else None,
        p99_target_ms=P99_TARGET_MS, p99_met=ours["p99_ms"] is not None and ours["p99_ms"] <= P99_TARGET_MS, **extra,
    )
    if entry["met"] is not None:
        entry["met"] = entry["met"] and entry["p99_met"]
        entry["target"] += f", p99 <= {P99_TARGET_MS:.0f} ms"
    return entry

