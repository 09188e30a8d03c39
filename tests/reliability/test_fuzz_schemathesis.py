"""Schemathesis against the live server, from the project's own OpenAPI schema.

gunicorn (production settings, DEBUG off) serves the test database; every operation of
`/api/v1/schema/` gets a bounded number of generated requests, valid and invalid, as a
superuser. No response may be a 5xx, use an undocumented status code or content type, or
break the documented body schema.
"""

import re

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import UserFactory
from tests.reliability.world import build_world

EXAMPLES_PER_MODE = 6  # per operation, for each of valid and invalid data (12 in all)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
COUNTS = {"examples": 0, "operations": 0}


def _live_ids(w) -> dict[str, int]:
    """The id of an existing row for each collection, so that detail operations hit something."""
    return {
        "categories": w.leaf.id,
        "products": w.product.id,
        "skus": w.sku.id,
        "warehouses": w.west.id,
        "stock/levels": w.level.id,
        "stock/movements": w.level.sku.movements.first().id,
        "stock/reservations": w.reservation.id,
        "webhooks": w.webhook.id,
    }


def _strategy(operation, mode, live_ids):
    strategy = operation.as_strategy(generation_mode=mode)
    match = re.match(r"^/api/v1/(.+?)/\{(\w+)\}", operation.path)
    if match and match.group(1) in live_ids and mode is GenerationMode.POSITIVE:
        existing = operation.as_strategy(
            generation_mode=mode, path_parameters={match.group(2): live_ids[match.group(1)]}
        )
        strategy = st.one_of(strategy, existing)
    return strategy


def _run_operation(operation, mode, *, base_url, headers, live_ids, failures):
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=_strategy(operation, mode, live_ids))
    def run(case):
        COUNTS["examples"] += 1
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        if response.status_code == 414 and b"Request Line is too large" in response.content:
            return  # gunicorn's own limit (limit_request_line) on a fuzzed URL: before the API, not its contract
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # record and go on: report every broken operation
            key = f"{operation.method.upper()} {operation.path} [{mode.value}]"
            if len(failures.setdefault(key, [])) < 2:
                failures[key].append(f"{response.status_code}: {str(exc)[:1500]}")

    run()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_5xx_and_no_schema_violation(gunicorn_server):
    w = build_world()
    user = UserFactory(username="fuzzer", is_superuser=True)
    headers = {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    server = gunicorn_server
    log_start = len(server.output())
    schema = schemathesis.openapi.from_url(f"{server.url}/api/v1/schema/?format=json")
    failures: dict[str, list[str]] = {}
    live_ids = _live_ids(w)
    for result in schema.get_all_operations():
        operation = result.ok()
        COUNTS["operations"] += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run_operation(operation, mode, base_url=server.url, headers=headers, live_ids=live_ids, failures=failures)
    log = server.output()[log_start:]
    assert COUNTS["operations"] >= 20, "the schema documents fewer operations than the API has"
    assert "Traceback" not in log, log[-3000:]
    report = "\n\n".join(f"{key}\n  " + "\n  ".join(items) for key, items in sorted(failures.items()))
    assert not failures, f"{len(failures)} operations broke the contract:\n{report}"
