"""The benchmark's PostgreSQL databases and the environment of the servers and manage.py run on them."""
from __future__ import annotations

import os
import secrets
import socket

from bench.config import PG_ADMIN_URL, REDIS_BENCH_URL, SETTINGS, THREADS


def admin_connection():
    import psycopg

    return psycopg.connect(f"{PG_ADMIN_URL}/postgres", autocommit=True)


def recreate_database(name: str, *, template: str | None = None) -> None:
    from psycopg import sql

    with admin_connection() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if template:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def vacuum_analyze(name: str) -> None:
    """What autovacuum does to a live database, now: statistics for the planner and the
    visibility map that lets `COUNT(*)` of the list read an index only (a seq scan of every
    SKU row before, ~2x the time). The peer's seed vacuums its tables the same way."""
    import psycopg

    with psycopg.connect(database_url(name), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def database_url(name: str) -> str:
    return f"{PG_ADMIN_URL}/{name}"


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def server_environment(db_name: str, *, redis: bool) -> dict[str, str]:
    """The environment of the server and of manage.py: production-like, rate limit off."""
    env = dict(os.environ)
    env.update({
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DATABASE_URL": database_url(db_name),
        "DEBUG": "false",
        "SECRET_KEY": env.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        "RATE_LIMIT_REQUESTS_PER_MINUTE": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": env.get("BENCH_LOG_LEVEL", "WARNING"),
        "GUNICORN_THREADS": THREADS,
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("REDIS_URL", None)
    if redis:
        env["REDIS_URL"] = REDIS_BENCH_URL
    return env

