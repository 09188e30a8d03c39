"""What the run was measured on: cores, memory, load, versions, the git commit."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from bench.config import ROOT
from bench.databases import admin_connection


def machine_info() -> dict:
    import django
    import psycopg

    mem_kb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    try:
        with admin_connection() as conn:
            pg_version = conn.execute("SHOW server_version").fetchone()[0]
    except Exception:  # informational only
        pg_version = None

    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    import gunicorn as gunicorn_pkg

    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1) if mem_kb else None,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "gunicorn": gunicorn_pkg.__version__,
        "postgres": pg_version,
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }
