"""/api/v1/stock/levels/ and /api/v1/stock/movements/."""

import pytest

from stock.models import StockLevel
from stock.services import ReservationRequestLine, reservation_create, stock_adjust, stock_receive
from tests.stock.factories import SKUFactory

pytestmark = pytest.mark.django_db
LEVELS = "/api/v1/stock/levels/"
MOVEMENTS = "/api/v1/stock/movements/"


def test_level_fields(api, stocked):
    reservation_create(reference="O", lines=[ReservationRequestLine(sku=stocked, quantity=3)])
    response = api.get(LEVELS)
    assert response.status_code == 200
    level = response.json()["data"][0]
    assert level | {"id": 0, "updated_at": ""} == {
        "id": 0,
        "sku_id": stocked.pk,
        "sku_code": stocked.sku_code,
        "warehouse": "MAIN",
        "on_hand": 10,
        "reserved": 3,
        "damaged": 0,
        "quality_control": 0,
        "sellable": 7,
        "safety_stock": 0,
        "available": 7,
        "incoming": 0,
        "backordered": 0,
        "low_stock_threshold": 0,
        "is_low": False,
        "reorder_point": None,
        "reorder_quantity": None,
        "version": 3,
        "updated_at": "",
    }


def test_level_filters(api, stocked, other):
    low = SKUFactory(sku_code="LOW-1")
    stock_receive(sku=low, warehouse=other, quantity=1)
    stock_adjust(sku=low, warehouse=other, delta=-1, reason="loss")

    def codes(**params):
        response = api.get(LEVELS, params)
        assert response.status_code == 200, response.json()
        return sorted((lv["sku_code"], lv["warehouse"]) for lv in response.json()["data"])

    assert codes(sku_code="low-1") == [("LOW-1", "EAST")]
    assert codes(sku_id=stocked.pk) == [(stocked.sku_code, "MAIN")]
    assert codes(warehouse="east") == [("LOW-1", "EAST")]
    assert codes(product_id=stocked.product_id) == [(stocked.sku_code, "MAIN")]
    assert codes(low_stock="true") == [("LOW-1", "EAST")]
    assert codes(low_stock="false") == [(stocked.sku_code, "MAIN")]
    assert api.get(LEVELS, {"low_stock": "maybe"}).status_code == 400


def test_patch_threshold(api, stocked):
    level = api.get(LEVELS).json()["data"][0]
    url = f"{LEVELS}{level['id']}/"
    assert api.get(url)["ETag"] == f'"{level["version"]}"'
    response = api.patch(url, {"low_stock_threshold": 10, "on_hand": 999, "version": level["version"]})
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert (data["low_stock_threshold"], data["is_low"], data["on_hand"], data["version"]) == (
        10,
        True,
        10,
        level["version"] + 1,
    )
    response = api.patch(url, {"low_stock_threshold": 1, "version": level["version"]})
    assert response.status_code == 409 and response.json()["code"] == "version_conflict"
    assert api.patch(url, {"low_stock_threshold": 1}, HTTP_IF_MATCH='"1"').status_code == 412
    for bad in (-1, 2**31, "3", True, None):
        assert api.patch(url, {"low_stock_threshold": bad}).status_code == 400
    assert api.put(url, {"low_stock_threshold": 1}).status_code == 405
    assert api.delete(url).status_code == 405
    assert api.post(LEVELS, {}).status_code == 405


def test_levels_query_count(api, django_assert_max_num_queries, main):
    for n in range(15):
        stock_receive(sku=SKUFactory(), quantity=n + 1)
    with django_assert_max_num_queries(6):
        assert len(api.get(LEVELS, {"size": 100}).json()["data"]) == 15


def test_movements(api, stocked, admin_user):
    stock_adjust(sku=stocked, delta=-2, reason="damage", reference="D-1", user=admin_user)
    response = api.get(MOVEMENTS)
    data = response.json()["data"]
    assert [(m["delta"], m["reason"], m["balance_after"]) for m in data] == [(-2, "damage", 8), (10, "receipt", 10)]
    assert data[0]["created_by"] == "admin" and data[1]["created_by"] is None
    assert [m["reference"] for m in api.get(MOVEMENTS, {"reason": "damage"}).json()["data"]] == ["D-1"]
    assert len(api.get(MOVEMENTS, {"reference": "PO-1"}).json()["data"]) == 1
    assert len(api.get(MOVEMENTS, {"sku_code": stocked.sku_code, "warehouse": "MAIN"}).json()["data"]) == 2
    assert len(api.get(MOVEMENTS, {"sku_id": stocked.pk + 1000}).json()["data"]) == 0
    created = data[0]["created_at"]
    assert len(api.get(MOVEMENTS, {"created_after": created}).json()["data"]) == 1
    assert len(api.get(MOVEMENTS, {"created_before": created}).json()["data"]) == 2
    assert len(api.get(MOVEMENTS, {"created_before": "2000-01-01"}).json()["data"]) == 0
    assert api.get(MOVEMENTS, {"created_after": "nope"}).status_code == 400
    assert api.get(MOVEMENTS, {"reason": "nope"}).status_code == 400


def test_movements_read_only(api, stocked):
    pk = api.get(MOVEMENTS).json()["data"][0]["id"]
    url = f"{MOVEMENTS}{pk}/"
    assert api.get(url).status_code == 200
    for method in (api.put, api.patch, api.delete):
        response = method(url, {"delta": 1})
        assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"
    assert api.post(MOVEMENTS, {"delta": 1}).status_code == 405


def test_movements_query_count(api, stocked, django_assert_max_num_queries):
    for _ in range(10):
        stock_adjust(sku=stocked, delta=1, reason="receipt")
    with django_assert_max_num_queries(6):
        assert len(api.get(MOVEMENTS, {"size": 100}).json()["data"]) == 11


def test_permissions(client_with_perms, anon, stocked):
    assert anon.get(LEVELS).status_code == 401
    assert client_with_perms().get(MOVEMENTS).status_code == 403
    assert client_with_perms("stock.view_stockmovement").get(MOVEMENTS).status_code == 200
    viewer = client_with_perms("stock.view_stocklevel")
    pk = viewer.get(LEVELS).json()["data"][0]["id"]
    assert viewer.patch(f"{LEVELS}{pk}/", {"low_stock_threshold": 1}).status_code == 403


def test_ledger_is_405_for_readers_too(client_with_perms, stocked):
    reader = client_with_perms("stock.view_stockmovement")
    pk = reader.get(MOVEMENTS).json()["data"][0]["id"]
    for method in (reader.put, reader.patch, reader.delete):
        assert method(f"{MOVEMENTS}{pk}/", {"delta": 1}).status_code == 405
    assert client_with_perms().delete(f"{MOVEMENTS}{pk}/").status_code == 403


def test_patch_with_only_read_only_fields_is_ignored(api, stocked):
    """Read-only fields are ignored (api.md): 200 with the level unchanged, not 400 "required"."""
    level = api.get(LEVELS).json()["data"][0]
    url = f"{LEVELS}{level['id']}/"
    for body in ({"on_hand": 999, "reserved": 3, "sku_code": "OTHER", "is_low": True}, {}):
        response = api.patch(url, body, format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["data"] == level
    assert StockLevel.objects.get(pk=level["id"]).version == level["version"]
    # The version checks still apply to such a write.
    response = api.patch(url, {"on_hand": 1, "version": level["version"] + 5}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "version_conflict"
