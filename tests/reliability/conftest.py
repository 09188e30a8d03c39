"""Fixtures of the reliability suites, and a summary line of what they tried."""

import sys

import pytest

from tests.reliability.server import AppServer, database_url


@pytest.fixture(scope="session")
def gunicorn_server(django_db_setup, django_db_blocker):
    """One gunicorn (production settings, 3 workers, no rate limit) on the test database,
    shared by the live suites; tests that use it are transactional so that it sees their rows."""
    with django_db_blocker.unblock():
        url = database_url()
    with AppServer(database_url=url, workers=3, RATE_LIMIT_REQUESTS_PER_MINUTE="0") as server:
        yield server


def pytest_terminal_summary(terminalreporter):
    """Print the figures of the reliability run (inputs tried, endpoints, examples, faults)."""
    lines = []
    bad_input = sys.modules.get("tests.reliability.test_bad_input")
    if bad_input and bad_input.COUNTS["inputs"]:
        lines.append(
            f"bad input: {bad_input.COUNTS['inputs']} hostile requests over "
            f"{len(bad_input.COUNTS['endpoints'])} write operations"
        )
    bad_query = sys.modules.get("tests.reliability.test_bad_query")
    if bad_query and bad_query.COUNTS["inputs"]:
        lines.append(
            f"bad query strings: {bad_query.COUNTS['inputs']} hostile requests "
            f"over {len(bad_query.GET_ROUTES)} read routes"
        )
    fuzz = sys.modules.get("tests.reliability.test_fuzz_schemathesis")
    if fuzz and fuzz.COUNTS["examples"]:
        lines.append(f"schemathesis: {fuzz.COUNTS['examples']} examples over {fuzz.COUNTS['operations']} operations")
    faults = sys.modules.get("tests.reliability.test_faults")
    if faults and faults.COUNTS["outages"]:
        lines.append(
            f"faults: {faults.COUNTS['outages']} database outages survived, "
            f"{faults.COUNTS['requests']} requests during them, {faults.COUNTS['503']} answered 503"
        )
    auth = sys.modules.get("tests.reliability.test_auth_matrix")
    if auth and auth.COUNTS["checks"]:
        lines.append(f"auth matrix: {auth.COUNTS['checks']} (user, route, method) checks")
    if lines:
        terminalreporter.section("reliability")
        for line in lines:
            terminalreporter.write_line(line)
