"""The processes a run drives: the served project, the load generator, manage.py; CPU read from /proc."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.config import DB_NAME, ROOT, SERVER, Plan


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(port: int, *, log_path: Path, workers: int | None = None, server: str | None = None) -> list[str]:
    """The command serving the project on `port`. The product's gunicorn.conf.py (picked up from the
    working directory) applies as shipped: its workers, threads, timeouts and worker recycling.
    Only the address and the log file are set here (and `workers` when a caller compares set-ups)."""
    if (server or SERVER) == "granian":  # the alternative set-up compared in docs/performance.md (BENCH_SERVER=granian)
        return [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers or 2 * (os.cpu_count() or 1)),
            "--blocking-threads",
            os.environ.get("GUNICORN_THREADS", "4"),
            "--no-ws",
            "--log-level",
            "warning",
            "--access-log",
            "--access-log-fmt",
            '{"logger": "granian.access", "method": "%(method)s", "path": "%(path)s", "status": %(status)d, '
            '"duration_ms": %(dt_ms).1f}',
            "inventory_site.wsgi:application",
        ]
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "inventory_site.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--error-logfile",
        str(log_path),
    ]
    return cmd if workers is None else [*cmd, "--workers", str(workers)]


@contextmanager
def gunicorn(env: dict[str, str], *, log_path: Path, workers: int | None = None, server: str | None = None):
    """Serve the project on a free port (`server_command`); yield its base URL and process group;
    stop it afterwards."""
    port = free_port()
    cmd = server_command(port, log_path=log_path, workers=workers, server=server)
    log_path.write_bytes(b"")  # this run's log only; both gunicorn and we then append
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({proc.returncode}); see {log_path}")
            try:
                with urllib.request.urlopen(f"{base}/health/", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer /health/ in 60 s; see {log_path}")
            time.sleep(0.3)
        yield base, proc.pid
    finally:
        stop(proc)


def loadgen(
    url: str,
    *,
    token: str | None = None,
    concurrency: int,
    seconds: float | None = None,
    requests: int | None = None,
    warmup: float = 0.0,
    method: str = "GET",
    body_template: str | None = None,
    rand: tuple[int, int] | None = None,
    raw: bool = False,
    keepalive: bool = False,
    rand_width: int = 0,
) -> dict:
    """Run bench.loadgen in its own process and return its JSON report."""
    cmd = [
        sys.executable,
        "-m",
        "bench.loadgen",
        "--url",
        url,
        "--concurrency",
        str(concurrency),
        "--method",
        method,
        "--warmup",
        str(warmup),
        "--seed",
        str(secrets.randbelow(1 << 30)),
    ]
    if raw:
        cmd.append("--raw")
    if keepalive:
        cmd.append("--keepalive")
    if rand_width:
        cmd += ["--rand-width", str(rand_width)]
    if token:
        cmd += ["--header", f"Authorization: Token {token}"]
    if seconds:
        cmd += ["--duration", str(seconds)]
    if requests:
        cmd += ["--requests", str(requests)]
    if body_template:
        cmd += ["--body-template", body_template]
    if rand:
        cmd += ["--rand-min", str(rand[0]), "--rand-max", str(rand[1])]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def client_ceiling(plan: Plan) -> dict:
    """Requests/s of the load generator against a server that does nothing."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.loadgen", "--serve", str(port)], cwd=ROOT, start_new_session=True
    )
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        return loadgen(f"http://127.0.0.1:{port}/", concurrency=16, seconds=plan.ceiling_seconds, warmup=0.5)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait()


def process_group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process of this process group (a server and its
    workers), from /proc; 0.0 where /proc is not there."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command: state ppid pgrp session ... utime(12) stime(13) counting from state = 0.
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def database_cpu_ticks(db_name: str) -> dict[int, int]:
    """User + system CPU ticks of each live PostgreSQL backend connected to `db_name` (their
    process title is `postgres: <cluster>: <user> <db> <client> <state>`), by pid, from /proc;
    empty where /proc is not there."""
    ticks = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
            if len(title) < 5 or title[0] != "postgres:" or title[3] != db_name:
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks[int(proc.name)] = int(fields[11]) + int(fields[12])
    return ticks


def database_cpu_seconds_since(before: dict[int, int], db_name: str) -> float:
    """CPU seconds the backends of `db_name` spent since `before` (a `database_cpu_ticks`): each
    live backend's ticks less its own earlier ones (a new backend's all of them). A backend
    that ended in between is not counted: both servers keep their connections, so few do."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    now = database_cpu_ticks(db_name)
    return sum(ticks - before.get(pid, 0) for pid, ticks in now.items()) / tick


@dataclass
class Server:
    """A server under load: where it answers, the token its client sends, its process group, and
    the database its backends are connected to."""

    name: str
    base: str
    token: str
    pgid: int
    database: str = DB_NAME


def measured(server: Server, path: str, **kwargs) -> dict:
    """`loadgen` against `server`, with the CPU its processes and its database's backends spent per
    request sent (warm-up included)."""
    cpu0, db0 = process_group_cpu_seconds(server.pgid), database_cpu_ticks(server.database)
    report = loadgen(server.base + path, token=server.token, keepalive=True, raw=True, **kwargs)
    cpu = process_group_cpu_seconds(server.pgid) - cpu0
    db = database_cpu_seconds_since(db0, server.database)
    sent = report.get("sent")
    report["server_cpu_seconds"], report["db_cpu_seconds"] = round(cpu, 3), round(db, 3)
    report["server_cpu_ms_per_request"] = round(1000 * cpu / sent, 2) if sent else None
    report["db_cpu_ms_per_request"] = round(1000 * db / sent, 2) if sent else None
    return report


def merged_measured(reports: list[dict]) -> dict:
    """Rounds of `measured` as one report, CPU per request over all of them."""
    report = merged(reports)
    cpu = sum(r["server_cpu_seconds"] for r in reports)
    db = sum(r.get("db_cpu_seconds") or 0 for r in reports)
    sent = sum(r.get("sent") or 0 for r in reports)
    report["server_cpu_seconds"], report["db_cpu_seconds"] = round(cpu, 3), round(db, 3)
    report["server_cpu_ms_per_request"] = round(1000 * cpu / sent, 2) if sent else None
    report["db_cpu_ms_per_request"] = round(1000 * db / sent, 2) if sent else None
    return report


def stop(proc: subprocess.Popen | None) -> None:
    """End a started process group: SIGTERM, then SIGKILL after 20 s."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def merged(reports: list[dict]) -> dict:
    """Rounds of one phase as one report."""
    from bench.loadgen import merge

    report = merge(reports)
    report["rounds"] = len(reports)
    return report


def manage(env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def server_timings(log_path: Path) -> dict:
    """p50/p90 of the time gunicorn spent on each route (its JSON access log), when it writes one."""
    durations: dict[str, list[float]] = {}
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return {}
    for line in lines:
        if '"gunicorn.access"' not in line:
            continue
        try:
            record = json.loads(line)
            durations.setdefault(f"{record['method']} {record['path']}", []).append(float(record["duration_ms"]))
        except (ValueError, KeyError, TypeError):
            continue
    summary = {}
    for route, values in durations.items():
        values.sort()
        summary[route] = {
            "requests": len(values),
            "p50": values[len(values) // 2],
            "p90": values[min(len(values) - 1, int(len(values) * 0.9))],
        }
    return summary
