"""Rows done of a running job, written where the admin can see them while the job's own
transaction (an import's, all or nothing) is still open.

The import writes every row inside one transaction, so progress written on the same
connection would stay invisible until the end (and vanish on a rollback). The writer uses a
connection of its own, in autocommit, and touches only the job's counter columns, which the
import's transaction never locks.
"""

import time

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from inventory_site.jobs.models import AdminJob


class ProgressWriter:
    """`advance(rows_done)` after each row; the counter is written at most every `interval`
    seconds or `step` rows, whichever comes first, and on `close()`."""

    def __init__(self, job: AdminJob, *, interval: float = 0.5, step: int | None = None):
        self.job = job
        self.interval = interval
        self.step = step or max(1, (job.rows_total or 0) // 100)
        self.written = job.rows_done
        self.last_write = time.monotonic()
        self.rows_done = job.rows_done
        self._connection: BaseDatabaseWrapper | None = None

    def advance(self, rows_done: int) -> None:
        self.rows_done = rows_done if self.job.rows_total is None else min(rows_done, self.job.rows_total)
        due = self.rows_done - self.written >= self.step or time.monotonic() - self.last_write >= self.interval
        if due:
            self.write()

    def write(self) -> None:
        """Write the counter now, on the writer's own connection (committed at once)."""
        if self._connection is None:
            self._connection = connections.create_connection(DEFAULT_DB_ALIAS)
        with self._connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {AdminJob._meta.db_table} SET rows_done = %s WHERE id = %s AND status = %s",
                [self.rows_done, self.job.pk, AdminJob.Status.RUNNING],
            )
        self.written = self.rows_done
        self.last_write = time.monotonic()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> "ProgressWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
