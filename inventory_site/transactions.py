"""Running a transaction again when PostgreSQL aborted it to break a deadlock."""

from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection

T = TypeVar("T")

DEADLOCK_DETECTED = "40P01"


def is_deadlock(exc: BaseException) -> bool:
    """Whether a database error is PostgreSQL's "deadlock detected" (SQLSTATE 40P01)."""
    return getattr(exc.__cause__, "sqlstate", None) == DEADLOCK_DETECTED


def retry_on_deadlock(run: Callable[[], T], *, attempts: int = 3) -> T:
    """Run a transaction again when PostgreSQL broke a deadlock by aborting it.

    Only at the outermost level: inside someone else's transaction the error propagates,
    since the whole of that transaction was aborted, not just `run`.
    """
    for attempt in range(attempts):
        try:
            return run()
        except OperationalError as exc:
            if not is_deadlock(exc) or attempt == attempts - 1 or connection.in_atomic_block:
                raise
    raise AssertionError("unreachable")
