"""`/stock/inbound/`, backordered reservations and `/stock/reorder-suggestions/` through the API."""

import pytest

from events.models import Event
from stock.models import InboundShipment, StockLevel, StockMovement
from tests.stock.factories import SKUFactory

pytestmark = pytest.mark.django_db
INBOUND = "/api/v1/stock/inbound/"
RESERVATIONS = "/api/v1/stock/reservations/"


@pytest.fixture
def preorder(main):
    return SKUFactory(sku_code="PRE-1", backorder_policy="allow_incoming")


def _create(api, reference="PO-10", lines=None, **extra):
    body = {
        "reference": reference,
        "supplier": "Acme",
        "warehouse": "main",
        "lines": lines or [{"sku_code": "PRE-1", "quantity_expected": 5}],
        **extra,
    }
    return api.post(INBOUND, body, format="json")


def _opened(api, **kwargs) -> int:
    created = _create(api, **kwargs)
    assert created.status_code == 201, created.json()
    pk = created.json()["data"]["id"]
    assert api.post(f"{INBOUND}{pk}/open/").status_code == 200
    return pk


def test_create_list_filter_and_retrieve(api, preorder):
    created = _create(api, expected_at="2026-12-20T10:00:00Z")
    assert created.status_code == 201
    data = created.json()["data"]
    assert data["status"] == "draft" and data["warehouse"] == "MAIN" and data["version"] == 1
    assert data["lines"] == [
        {
            "id": data["lines"][0]["id"],
            "sku_id": preorder.pk,
            "sku_code": "PRE-1",
            "quantity_expected": 5,
            "quantity_received": 0,
            "quantity_outstanding": 5,
        }
    ]
    _create(api, reference="PO-11", supplier="Other")
    assert [s["reference"] for s in api.get(f"{INBOUND}?supplier=acm").json()["data"]] == ["PO-10"]
    assert [s["reference"] for s in api.get(f"{INBOUND}?reference=PO-11").json()["data"]] == ["PO-11"]
    assert api.get(f"{INBOUND}?status=open").json()["data"] == []
    assert len(api.get(f"{INBOUND}?warehouse=main&status=draft").json()["data"]) == 2
    assert api.get(f"{INBOUND}{data['id']}/").json()["data"]["reference"] == "PO-10"


def test_create_refusals(api, preorder):
    assert _create(api).status_code == 201
    duplicate = _create(api)
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate"
    unknown = _create(api, reference="PO-12", lines=[{"sku_code": "NOPE", "quantity_expected": 1}])
    assert unknown.status_code == 400 and "0" in unknown.json()["errors"]["lines"]
    zero = _create(api, reference="PO-13", lines=[{"sku_code": "PRE-1", "quantity_expected": 0}])
    assert zero.status_code == 400
    assert InboundShipment.objects.count() == 1


def test_edit_while_draft_with_version(api, preorder):
    pk = _create(api).json()["data"]["id"]
    edited = api.patch(f"{INBOUND}{pk}/", {"note": "by boat", "version": 1}, format="json")
    assert edited.status_code == 200 and edited.json()["data"]["version"] == 2
    stale = api.patch(f"{INBOUND}{pk}/", {"note": "by air", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    assert api.post(f"{INBOUND}{pk}/open/").status_code == 200
    late = api.patch(f"{INBOUND}{pk}/", {"note": "by air"}, format="json")
    assert late.status_code == 409 and late.json()["code"] == "inbound_not_open"


def test_receive_over_receipt_and_not_open(api, preorder):
    draft = _create(api, reference="PO-DRAFT").json()["data"]["id"]
    refused = api.post(f"{INBOUND}{draft}/receive/", {"lines": [{"sku_code": "PRE-1", "quantity": 1}]}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "inbound_not_open"
    pk = _opened(api)
    over = api.post(f"{INBOUND}{pk}/receive/", {"lines": [{"sku_code": "PRE-1", "quantity": 6}]}, format="json")
    assert over.status_code == 409 and over.json()["code"] == "over_receipt"
    assert not StockMovement.objects.exists()
    received = api.post(
        f"{INBOUND}{pk}/receive/",
        {"lines": [{"sku_code": "PRE-1", "quantity": 4}, {"sku_code": "PRE-1", "quantity": 1, "state": "damaged"}]},
        format="json",
    )
    assert received.status_code == 201
    data = received.json()["data"]
    assert data["shipment"]["status"] == "received"
    assert [(m["reason"], m["delta"], m["reference"]) for m in data["movements"]] == [
        ("receipt", 4, "PO-10"),
        ("receipt", 1, "PO-10"),
    ]
    assert data["levels"][0]["on_hand"] == 5
    assert StockLevel.objects.get(sku=preorder).damaged == 1
    again = api.post(f"{INBOUND}{pk}/receive/", {"lines": [{"sku_code": "PRE-1", "quantity": 1}]}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "inbound_not_open"


def test_receive_with_an_idempotency_key_applies_once(api, preorder):
    pk = _opened(api)
    body = {"lines": [{"sku_code": "PRE-1", "quantity": 2}]}
    first = api.post(f"{INBOUND}{pk}/receive/", body, format="json", HTTP_IDEMPOTENCY_KEY="rcv-1")
    second = api.post(f"{INBOUND}{pk}/receive/", body, format="json", HTTP_IDEMPOTENCY_KEY="rcv-1")
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert StockLevel.objects.get(sku=preorder).on_hand == 2


def test_cancel(api, preorder):
    pk = _opened(api)
    cancelled = api.post(f"{INBOUND}{pk}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["data"]["status"] == "cancelled"
    assert StockLevel.objects.get(sku=preorder).incoming == 0
    assert api.post(f"{INBOUND}{pk}/cancel/").json()["code"] == "inbound_not_open"


def test_a_clerk_without_receive_permission_is_refused(client_with_perms, api, preorder):
    pk = _opened(api)
    viewer = client_with_perms("stock.view_inboundshipment")
    assert viewer.get(INBOUND).status_code == 200
    refused = viewer.post(f"{INBOUND}{pk}/receive/", {"lines": [{"sku_code": "PRE-1", "quantity": 1}]}, format="json")
    assert refused.status_code == 403


def test_backordered_reservation_flow(api, preorder):
    pk = _opened(api)
    made = api.post(
        RESERVATIONS,
        {"reference": "O-1", "ttl_seconds": 30 * 24 * 3600, "lines": [{"sku_code": "PRE-1", "quantity": 3}]},
        format="json",
    )
    assert made.status_code == 201, made.json()
    reservation = made.json()["data"]
    assert reservation["backordered"] is True
    assert [(ln["quantity"], ln["allocated"], ln["backordered"]) for ln in reservation["lines"]] == [(3, 0, 3)]
    refused = api.post(f"{RESERVATIONS}{reservation['id']}/commit/")
    assert refused.status_code == 409 and refused.json()["code"] == "backordered"
    api.post(f"{INBOUND}{pk}/receive/", {"lines": [{"sku_code": "PRE-1", "quantity": 5}]}, format="json")
    shown = api.get(f"{RESERVATIONS}{reservation['id']}/").json()["data"]
    assert shown["backordered"] is False and shown["lines"][0]["allocated"] == 3
    assert Event.objects.filter(type="reservation.allocated", reference="O-1").exists()
    assert api.post(f"{RESERVATIONS}{reservation['id']}/commit/").status_code == 200
    level = api.get("/api/v1/stock/levels/?sku_code=PRE-1").json()["data"][0]
    assert (level["on_hand"], level["reserved"], level["available"]) == (2, 0, 2)


def test_deny_policy_sku_is_short_as_before(api, main):
    SKUFactory(sku_code="PLAIN-1")
    _opened(api, lines=[{"sku_code": "PLAIN-1", "quantity_expected": 5}])
    refused = api.post(
        RESERVATIONS, {"reference": "O-1", "lines": [{"sku_code": "PLAIN-1", "quantity": 1}]}, format="json"
    )
    assert refused.status_code == 409 and refused.json()["code"] == "insufficient_stock"


def test_sku_backorder_policy_through_the_catalog_api(api, main):
    sku = SKUFactory(sku_code="POL-1")
    changed = api.patch(f"/api/v1/skus/{sku.pk}/", {"backorder_policy": "allow_incoming"}, format="json")
    assert changed.status_code == 200 and changed.json()["data"]["backorder_policy"] == "allow_incoming"
    bad = api.patch(f"/api/v1/skus/{sku.pk}/", {"backorder_policy": "maybe"}, format="json")
    assert bad.status_code == 400


def test_reorder_suggestions_and_drafts(api, preorder, main):
    level = StockLevel.objects.create(sku=preorder, warehouse=main, reorder_point=4)
    other = StockLevel.objects.create(
        sku=SKUFactory(sku_code="PRE-2"), warehouse=main, reorder_point=2, reorder_quantity=10
    )
    StockLevel.objects.create(sku=SKUFactory(sku_code="OFF-1"), warehouse=main)  # reorder point off
    listed = api.get("/api/v1/stock/reorder-suggestions/?warehouse=main")
    assert listed.status_code == 200
    rows = {row["sku_code"]: row for row in listed.json()["data"]}
    assert set(rows) == {"PRE-1", "PRE-2"}
    assert rows["PRE-1"]["suggested_quantity"] == 8 and rows["PRE-2"]["suggested_quantity"] == 10
    made = api.post(
        "/api/v1/stock/reorder-suggestions/create-drafts/",
        {"supplier": "Acme", "warehouse": "MAIN", "level_ids": [level.pk]},
        format="json",
    )
    assert made.status_code == 201
    data = made.json()["data"]
    assert data["status"] == "draft" and data["supplier"] == "Acme"
    assert [(ln["sku_code"], ln["quantity_expected"]) for ln in data["lines"]] == [("PRE-1", 8)]
    api.post(f"{INBOUND}{data['id']}/open/")
    # 8 incoming: 0 + 8 > 4, no longer suggested.
    assert [row["sku_code"] for row in api.get("/api/v1/stock/reorder-suggestions/").json()["data"]] == ["PRE-2"]
    wrong = api.post(
        "/api/v1/stock/reorder-suggestions/create-drafts/",
        {"supplier": "Acme", "warehouse": "MAIN", "level_ids": [level.pk]},
        format="json",
    )
    assert wrong.status_code == 400
    assert other.pk


def test_policy_values_of_the_rule_and_the_model_agree():
    from catalog.models import BackorderPolicy
    from catalog.rules import BACKORDER_POLICIES

    assert BACKORDER_POLICIES == tuple(BackorderPolicy.values) and BACKORDER_POLICIES[0] == BackorderPolicy.DENY
