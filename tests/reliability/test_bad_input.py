"""Every write endpoint of the API against a table of hostile inputs.

Endpoints come from the URL resolver (so a new one is covered without editing this file),
field types from the OpenAPI schema. For each input: never a 5xx, always the envelope,
a refused input is a 4xx and leaves every table exactly as it was (a fingerprint of all
rows, history tables included); an input the API may take as plain data (an HTML string
in a description) comes back verbatim.
"""

import copy
import itertools
import json
import re

import pytest
from django.db import DatabaseError, transaction

from tests.conftest import token_client
from tests.factories import UserFactory
from tests.reliability import hostile
from tests.reliability.bodies import allow_local_webhooks, base_body_for, url_kwargs
from tests.reliability.endpoints import header_params, request_fields, write_operations
from tests.reliability.world import build_world, fingerprint

pytestmark = pytest.mark.django_db

_unique = itertools.count(1)
COUNTS = {"inputs": 0, "endpoints": set()}


def _check(response, *, expect: str, before: str, label: str, failures: list, sent=None, field=None):
    """Assert the contract for one hostile request; append a readable line per breach."""
    COUNTS["inputs"] += 1
    status = response.status_code
    try:
        body = response.json() if status != 204 else None
    except ValueError:
        failures.append(f"{label}: {status} with a body that is not JSON: {response.content[:120]!r}")
        return
    if status >= 500:
        failures.append(f"{label}: {status} {body}")
        return
    if status != 204 and (not isinstance(body, dict) or body.get("status") not in ("success", "error")):
        failures.append(f"{label}: {status} not in the envelope: {str(body)[:200]}")
        return
    try:
        after = fingerprint()
    except DatabaseError as exc:
        failures.append(f"{label}: {status} left the transaction broken ({exc.__class__.__name__})")
        return
    if status >= 400:
        if body.get("status") != "error" or not body.get("code"):
            failures.append(f"{label}: {status} error without code: {body}")
        if after != before:
            failures.append(f"{label}: {status} {body.get('code')} but rows changed")
    elif expect == hostile.REJECT:
        failures.append(f"{label}: accepted with {status}, must be refused")
    elif field and isinstance(sent, str) and isinstance(body.get("data"), dict):
        stored = body["data"].get(field)
        if isinstance(stored, str) and stored not in (sent, sent.strip(), sent.upper(), sent.strip().upper()):
            failures.append(f"{label}: stored {stored[:60]!r} instead of the literal input")


def _send(client, method: str, path: str, raw: bytes, content_type: str, headers: dict | None = None):
    sid = transaction.savepoint()
    try:
        response = client.generic(method, path, raw, content_type=content_type, headers=headers)
        return response, sid
    except Exception:
        transaction.savepoint_rollback(sid)
        raise


def _body_text(base: dict, dotted: str, value: hostile.Hostile) -> bytes:
    body = copy.deepcopy(base)
    target, key = body, dotted
    if "." in dotted:
        outer, _, key = dotted.partition(".0.")
        target = body[outer][0]
    marker = "__HOSTILE_RAW__"
    target[key] = marker if value.raw else value.value
    text = json.dumps(body)
    return (text.replace(f'"{marker}"', value.raw) if value.raw else text).encode("utf-8", "surrogatepass")


OPERATIONS = write_operations()
# Breaches found by this suite and routed to the owner of the code; listed here so that the
# suite stays green meanwhile and turns them into xfail (they pass again once fixed).
# (method, path, input label), e.g. ("POST", "/api/v1/stock/adjustments/", "sku_id=id_missing"),
# found here and since fixed in stock/api/serializers.py (sku_code and sku_id must agree).
KNOWN_BREACHES: set[tuple[str, str, str]] = set()


@pytest.fixture
def hostile_setup(settings):
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 0
    allow_local_webhooks(settings)
    w = build_world()
    client = token_client(UserFactory(username="root", is_superuser=True))
    client.raise_request_exception = False
    return w, client


@pytest.mark.parametrize(("route", "method"), OPERATIONS, ids=[f"{m} {r}" for r, m in OPERATIONS])
def test_write_endpoint_refuses_hostile_input(hostile_setup, route, method):
    w, client = hostile_setup
    path = route.path(**url_kwargs(route, w))
    COUNTS["endpoints"].add(f"{method} {route}")
    failures: list[str] = []
    before = fingerprint()

    def run(
        label,
        raw,
        content_type="application/json",
        expect=hostile.REJECT,
        statuses=None,
        sent=None,
        field=None,
        headers=None,
    ):
        response, sid = _send(client, method, path, raw, content_type, headers)
        if statuses and response.status_code not in statuses and response.status_code < 500:
            failures.append(f"{label}: {response.status_code}, expected {statuses}")
        _check(response, expect=expect, before=before, label=label, failures=failures, sent=sent, field=field)
        transaction.savepoint_rollback(sid)

    make_base = base_body_for(method, path, w)
    base = make_base(next(_unique)) if make_base else {}
    if method != "DELETE":
        probe, sid = _send(client, method, path, json.dumps(base).encode(), "application/json")
        transaction.savepoint_rollback(sid)
        if probe.status_code == 405:  # the router lists the method, the view refuses it
            COUNTS["inputs"] += 1
            assert probe.json()["code"] == "method_not_allowed"
            return

    # Hostile ids in the URL of detail routes (with a valid body): 404, nothing written.
    if route.is_detail:
        for kind, bad_id in hostile.URL_IDS:
            bad_path = re.sub(r"/\d+/", f"/{bad_id}/", path, count=1)
            response, sid = _send(client, method, bad_path, json.dumps(base).encode(), "application/json")
            if response.status_code != 404:
                failures.append(f"url id {kind}: {response.status_code}, expected 404")
            _check(response, expect=hostile.REJECT, before=before, label=f"url id {kind}", failures=failures)
            transaction.savepoint_rollback(sid)
    if method == "DELETE":
        assert not failures, "\n".join(failures)
        return

    fields = request_fields(route, method)
    if not fields and base:
        fields = {name: _infer(value) for name, value in base.items()}
    if not fields and not base:
        # An action without a body (restore, commit, release, ping, rotate-secret, redeliver) never
        # reads one: the URL table only.
        assert not failures, "\n".join(failures)
        return
    for raw in hostile.whole_bodies(base):
        if raw.kind == "empty" and method == "PATCH":
            continue  # DRF reads an empty body as {}: a PATCH that changes nothing
        run(f"body {raw.kind}", raw.body, raw.content_type, statuses=raw.statuses)
    valid = json.dumps(base).encode()
    # Hostile headers with a valid body: If-Match on updates, Idempotency-Key where documented.
    if method in ("PUT", "PATCH"):
        for kind, value in hostile.IF_MATCH:
            run(f"If-Match {kind}", valid, statuses=(412,), headers={"If-Match": value})
    if "Idempotency-Key" in header_params(route, method):
        for kind, value in hostile.IDEMPOTENCY_KEYS:
            run(f"Idempotency-Key {kind}", valid, statuses=(400,), headers={"Idempotency-Key": value})

    deleted_ids = {
        "parent_id": w.deleted_category.id,
        "category_id": w.deleted_category.id,
        "target_id": w.deleted_category.id,
        "product_id": w.deleted_product.id,
        "sku_id": w.deleted_sku.id,
    }
    deleted_codes = {
        "sku_code": w.deleted_sku.sku_code,
        "warehouse": w.deleted_warehouse.code,
        "from_warehouse": w.deleted_warehouse.code,
        "to_warehouse": w.deleted_warehouse.code,
    }
    own_code = bool(re.search(r"/api/v1/skus/", path))
    targets = []
    for name, prop in fields.items():
        targets.append((name, prop))
        items = prop.get("items") or {}
        if prop.get("type") == "array" and isinstance(base.get(name), list) and base[name] and items.get("properties"):
            targets += [
                (f"{name}.0.{sub}", subprop)
                for sub, subprop in items["properties"].items()
                if not subprop.get("readOnly")
            ]
    for dotted, prop in targets:
        leaf = dotted.rsplit(".", 1)[-1]
        if "." in dotted and not isinstance(base.get(dotted.split(".")[0]), list):
            continue
        for value in hostile.values_for(
            leaf, prop, deleted_ids=deleted_ids, deleted_codes=deleted_codes, own_code=own_code
        ):
            raw = _body_text(base, dotted, value)
            run(f"{dotted}={value.kind}", raw, expect=value.expect, sent=value.value, field=leaf)

    known = [f for f in failures if (method, path, f.split(":")[0]) in KNOWN_BREACHES]
    unknown = [f for f in failures if f not in known]
    assert not unknown, f"{method} {path}: {len(unknown)} breaches\n" + "\n".join(unknown)
    if known:
        pytest.xfail("known, routed: " + "; ".join(known))


def _infer(value) -> dict:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, dict):
        return {"type": "object"}
    if isinstance(value, list):
        return {"type": "array", "items": {}}
    return {"type": "string"}


def test_every_write_endpoint_is_known_here():
    """A new write endpoint gets the hostile table; one without a valid base body here is
    tested with `{}` as its base, which is weaker: name it so someone adds a base body."""
    assert OPERATIONS, "no write endpoint found under /api/v1/"
    w = build_world()
    missing = []
    for route, method in OPERATIONS:
        if method == "DELETE" or route.path(**url_kwargs(route, w)).endswith(
            ("/restore/", "/commit/", "/release/", "/ping/", "/rotate-secret/", "/redeliver/", "/open/", "/cancel/")
        ):
            continue
        if base_body_for(method, route.path(**url_kwargs(route, w)), w) is None:
            missing.append(f"{method} {route}")
    assert not missing, f"write endpoints without a base body in test_bad_input.py: {missing}"
