"""`python -m inventory_site.embedded [--redis] [--reset] -- CMD...`: run CMD with the
embedded PostgreSQL (unless `DATABASE_URL` is set, in the environment or in `.env`) and,
with `--redis`, the embedded Redis (unless one answers on 127.0.0.1:6379); stop what was
started here when CMD ends. Exits with CMD's status.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

from inventory_site.embedded import postgres, redis


def _configured_database_url() -> str:
    """DATABASE_URL from the environment, else from `.env` (as the settings read it), or ""."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    env_file = postgres.BASE_DIR / ".env"
    if env_file.exists():
        for line in env_file.read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition("=")
            if name.strip() == "DATABASE_URL" and value.strip():
                return value.strip()
    return ""


def _command_env() -> dict[str, str]:
    """The environment as given. Importing this package loaded the Celery app, which set
    DJANGO_SETTINGS_MODULE to the project's default here; passed on, it would override
    pytest's `tests.settings` (every other entry point defaults to it anyway)."""
    env = dict(os.environ)
    if env.get("DJANGO_SETTINGS_MODULE") == "inventory_site.settings":
        del env["DJANGO_SETTINGS_MODULE"]
    return env


def _run(command: list[str]) -> int:
    """Run `command`; Ctrl-C and SIGTERM go to it, and we wait for it to end."""
    child = subprocess.Popen(command, env=_command_env())

    def forward(signum, _frame):
        if child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    status = child.wait()
    return 128 - status if status < 0 else status  # killed by a signal: the shell's 128 + N


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m inventory_site.embedded", description=__doc__)
    parser.add_argument("--redis", action="store_true", help="also the embedded Redis")
    parser.add_argument("--reset", action="store_true", help="stop and delete the embedded data, then exit")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.reset:
        postgres.reset()
        print(f"Deleted {postgres.data_dir()}.")
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command after --")
    started = None
    broker = None
    try:
        if not _configured_database_url():
            started = postgres.start()
            where = "started" if started.owned else "already running"
            print(
                f"Embedded PostgreSQL {where} in {started.seconds:.1f} s: {started.url} "
                f"(data in {postgres.data_dir()})",
                file=sys.stderr,
                flush=True,
            )
        if args.redis:
            broker = redis.start()
            if broker:
                print(f"Embedded Redis started on {redis.HOST}:{redis.PORT}", file=sys.stderr, flush=True)
        return _run(command)
    finally:
        redis.stop(broker)
        if started and started.owned:
            postgres.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
