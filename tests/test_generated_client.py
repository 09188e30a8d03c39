"""What an integrator does with the schema: validate it, generate a Python client with
`openapi-python-client`, and run an order flow with that client against a live server.

The client is generated from the schema the server serves, so a schema change that the
client cannot follow (a renamed operation, a field the server no longer sends, an error
body that no longer matches) fails here.
"""

import importlib
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate
from rest_framework.authtoken.models import Token

from stock.models import Warehouse
from stock.services import stock_receive
from tests.factories import UserFactory
from tests.stock.factories import SKUFactory

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "inventory_client"
MAX_MODELS = 200
# A model attribute typed `Any` (the `additional_properties` bag of unknown keys aside).
ANY_FIELD = re.compile(r"^    (?!additional_properties)\w+: .*\bAny\b", re.MULTILINE)


@pytest.fixture(scope="module")
def schema(django_db_setup, live_server) -> dict:
    """The schema the live server serves (the test database is set up first, so that it
    is torn down after the server has stopped)."""
    response = httpx.get(f"{live_server.url}/api/v1/schema/?format=json", timeout=30)
    assert response.status_code == 200
    return response.json()


def _forget_package() -> None:
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def client_package(schema, tmp_path_factory):
    """The client generated into a temporary folder and imported as `inventory_client`."""
    tmp_path = tmp_path_factory.mktemp("client")
    validate(schema)  # openapi-spec-validator: raises on an invalid document
    path = tmp_path / "schema.json"
    path.write_text(httpx.Response(200, json=schema).text)
    config = tmp_path / "config.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(path),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(tmp_path / PACKAGE),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    _forget_package()
    yield tmp_path / PACKAGE
    _forget_package()
    sys.path.remove(str(tmp_path))


def _module(name: str):
    return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.mark.django_db(transaction=True)
def test_generated_client_is_small_and_typed(client_package):
    model_files = [p for p in (client_package / "models").glob("*.py") if p.name != "__init__.py"]
    assert 0 < len(model_files) < MAX_MODELS
    untyped = {p.name: ANY_FIELD.findall(p.read_text()) for p in model_files}
    assert {name: fields for name, fields in untyped.items() if fields} == {}
    error = _module("models.error_envelope").ErrorEnvelope
    assert set(error.__annotations__) >= {"status", "data", "message", "code", "errors"}
    assert _module("models.error_code").ErrorCode("insufficient_stock")
    bulk = _module("models.bulk_adjustment_request").BulkAdjustmentRequest
    assert "list[AdjustmentRequest]" in bulk.__annotations__["lines"]
    reservation = _module("models.reservation_create_request").ReservationCreateRequest
    assert "list[ReservationLineInputRequest]" in reservation.__annotations__["lines"]


@pytest.mark.django_db(transaction=True)
def test_order_flow_with_the_generated_client(client_package, live_server):
    Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main warehouse", "is_default": True})
    sku = SKUFactory(sku_code="MUG-BLUE")
    SKUFactory(sku_code="MUG-RED")
    stock_receive(sku=sku, quantity=5, reference="PO-7")
    user = UserFactory(username="integrator", is_superuser=True)
    key = Token.objects.create(user=user).key
    client = _module("client").AuthenticatedClient(base_url=live_server.url, token=key, prefix="Token")
    models = _module("models")

    skus = _module("api.skus.sku_list").sync(client=client, sku_code="MUG-BLUE")
    assert isinstance(skus, models.PaginatedSKUList)
    assert [s.sku_code for s in skus.data] == ["MUG-BLUE"] and skus.data[0].available == 5
    assert skus.meta.total == 1 and skus.meta.pages == 1

    create = _module("api.stock.reservation_create")
    line = models.ReservationLineInputRequest(sku_code="MUG-BLUE", quantity=2, warehouse="MAIN")
    created = create.sync(client=client, body=models.ReservationCreateRequest(reference="ORDER-1", lines=[line]))
    assert isinstance(created, models.ReservationEnvelope), created
    assert created.data.status == "active" and created.message == "Reservation created"
    assert [(ln.sku_code, ln.quantity) for ln in created.data.lines] == [("MUG-BLUE", 2)]

    too_many = models.ReservationLineInputRequest(sku_code="MUG-BLUE", quantity=4)
    refused = create.sync_detailed(
        client=client, body=models.ReservationCreateRequest(reference="ORDER-2", lines=[too_many])
    )
    assert refused.status_code == 409
    assert isinstance(refused.parsed, models.ErrorEnvelope)
    assert refused.parsed.code is models.ErrorCode.INSUFFICIENT_STOCK
    assert refused.parsed.errors["lines"]["0"] == {"sku_code": "MUG-BLUE", "available": 3, "requested": 4}

    committed = _module("api.stock.reservation_commit").sync(client=client, id=created.data.id)
    assert isinstance(committed, models.ReservationEnvelope) and committed.data.status == "committed"
    again = _module("api.stock.reservation_commit").sync_detailed(client=client, id=created.data.id)
    assert again.status_code == 409 and again.parsed.code is models.ErrorCode.RESERVATION_NOT_ACTIVE

    ledger = _module("api.stock.movement_list").sync(client=client, sku_code="MUG-BLUE", ordering="created_at")
    assert isinstance(ledger, models.PaginatedMovementList)
    assert [(m.reason, m.delta, m.balance_after) for m in ledger.data] == [
        (models.MovementReasonEnum.RECEIPT, 5, 5),
        (models.MovementReasonEnum.SALE, -2, 3),
    ]
    assert ledger.data[1].reservation_id == created.data.id
