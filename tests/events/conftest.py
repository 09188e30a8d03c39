"""Fixtures of the events suites: a receiver on 127.0.0.1 and a real Celery worker."""

import sys

import pytest

from tests.events.receiver import Receiver
from tests.events.worker import Worker, purge_broker
from tests.reliability.server import database_url


@pytest.fixture
def allow_local_webhooks(settings):
    """Tests deliver only to 127.0.0.1 over http, which production refuses."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


@pytest.fixture
def worker(transactional_db, allow_local_webhooks):
    """A worker process with beat (the 2 s sweep) on the test database; tests that use it are transactional."""
    purge_broker()
    with Worker(database_url=database_url()) as w:
        yield w
    purge_broker()


def pytest_terminal_summary(terminalreporter):
    """Print the figures of the events fault test."""
    faults = sys.modules.get("tests.events.test_faults")
    if faults and faults.COUNTS:
        terminalreporter.section("events")
        terminalreporter.write_line(f"webhook faults: {faults.COUNTS}")
