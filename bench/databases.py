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
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
            )
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
    """The environment of the server and of manage.py: the product's defaults, with what a deployment
    must set (its database, secret key, hosts, Redis) and the rate limit off.

    The rate limit (100 requests a minute per user by default) is a deployment's number, and one
    client sending hundreds a second is what it refuses: with it, every figure would be a 429.
    Everything else is as shipped: the server's settings from gunicorn.conf.py (workers, threads,
    worker recycling), the log level, the connection settings. BENCH_THREADS and BENCH_LOG_LEVEL
    change those for an experiment.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GUNICORN_", "WEB_CONCURRENCY"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "DATABASE_URL": database_url(db_name),
            "DEBUG": "false",
            "SECRET_KEY": env.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
            "RATE_LIMIT_REQUESTS_PER_MINUTE": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("LOG_LEVEL", None)
    if env.get("BENCH_LOG_LEVEL"):
        env["LOG_LEVEL"] = env["BENCH_LOG_LEVEL"]
    if THREADS:
        env["GUNICORN_THREADS"] = THREADS
    env.pop("REDIS_URL", None)
    if redis:
        env["REDIS_URL"] = REDIS_BENCH_URL
    return env
