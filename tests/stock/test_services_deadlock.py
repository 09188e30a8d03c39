"""retry_on_deadlock: a transaction PostgreSQL aborted to break a deadlock runs again."""

import pytest
from django.db import OperationalError

from inventory_site.transactions import retry_on_deadlock


class Cause(Exception):
    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def failing(times: int, sqlstate: str = "40P01"):
    calls = []

    def run():
        calls.append(1)
        if len(calls) <= times:
            error = OperationalError("boom")
            error.__cause__ = Cause(sqlstate)
            raise error
        return len(calls)

    return run


def test_retries_deadlocks():
    assert retry_on_deadlock(failing(2)) == 3


def test_gives_up_after_attempts():
    with pytest.raises(OperationalError):
        retry_on_deadlock(failing(3))


def test_other_errors_propagate():
    with pytest.raises(OperationalError):
        retry_on_deadlock(failing(1, sqlstate="08006"))
