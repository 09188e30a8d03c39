"""/api/v1/warehouses/: codes, default switching, soft delete, restore, versions."""

import pytest

from stock.models import Warehouse

pytestmark = pytest.mark.django_db
URL = "/api/v1/warehouses/"


def test_list_has_main(api):
    response = api.get(URL)
    assert response.status_code == 200
    assert [(w["code"], w["is_default"], w["version"]) for w in response.json()["data"]] == [("MAIN", True, 1)]


def test_create_uppercases(api):
    response = api.post(URL, {"code": "west-2", "name": "West"})
    assert response.status_code == 201 and response.json()["message"] == "Warehouse created"
    data = response.json()["data"]
    assert (data["code"], data["is_active"], data["is_default"], data["version"]) == ("WEST-2", True, False, 1)


@pytest.mark.parametrize("code", ["", " WEST", "has space", "x" * 21, "bad!", "ÄÖ", True, None, ["A"]])
def test_bad_codes(api, code):
    response = api.post(URL, {"code": code, "name": "W"})
    assert response.status_code == 400 and "code" in response.json()["errors"]


@pytest.mark.parametrize("name", ["", "   ", "a\x00b", "x" * 101])
def test_bad_names(api, name):
    response = api.post(URL, {"code": "OK", "name": name})
    assert response.status_code == 400 and "name" in response.json()["errors"]


def test_duplicate_code_even_deleted(api, other):
    assert api.post(URL, {"code": "east", "name": "E"}).json()["code"] == "duplicate"
    api.delete(f"{URL}{other.pk}/")
    response = api.post(URL, {"code": "EAST", "name": "E"})
    assert response.status_code == 409 and response.json()["code"] == "duplicate"


def test_switch_default(api, main, other):
    response = api.patch(f"{URL}{other.pk}/", {"is_default": True})
    assert response.status_code == 200 and response.json()["data"]["is_default"] is True
    main.refresh_from_db()
    assert main.is_default is False and main.version == 2
    assert list(Warehouse.objects.filter(is_default=True)) == [other]
    response = api.post(URL, {"code": "NEW", "name": "N", "is_default": True})
    assert response.status_code == 201
    assert list(Warehouse.objects.filter(is_default=True).values_list("code", flat=True)) == ["NEW"]


def test_cannot_unset_or_delete_default(api, main):
    assert api.patch(f"{URL}{main.pk}/", {"is_default": False}).status_code == 400
    assert api.delete(f"{URL}{main.pk}/").status_code == 400


def test_versions(api, other):
    url = f"{URL}{other.pk}/"
    response = api.get(url)
    assert response["ETag"] == '"1"'
    assert api.patch(url, {"name": "E2", "version": 1}).json()["data"]["version"] == 2
    response = api.patch(url, {"name": "E3", "version": 1})
    assert response.status_code == 409 and response.json()["errors"] == {"current_version": 2}
    assert api.patch(url, {"name": "E3"}, HTTP_IF_MATCH='"1"').status_code == 412
    assert api.put(url, {"code": "EAST", "name": "E4"}, HTTP_IF_MATCH='"2"').status_code == 200


def test_delete_holding_stock(api, stocked, other):
    from stock.services import stock_receive

    stock_receive(sku=stocked, warehouse=other, quantity=1)
    response = api.delete(f"{URL}{other.pk}/")
    assert response.status_code == 409 and response.json()["code"] == "has_dependents"
    assert not Warehouse.all_objects.get(pk=other.pk).is_deleted


def test_soft_delete_and_restore(api, other):
    assert api.delete(f"{URL}{other.pk}/").status_code == 204
    other.refresh_from_db()
    assert other.is_deleted and other.deleted_at and other.version == 2
    assert [w["code"] for w in api.get(URL).json()["data"]] == ["MAIN"]
    assert [w["code"] for w in api.get(URL, {"include_deleted": "true"}).json()["data"]] == ["EAST", "MAIN"]
    response = api.post(f"{URL}{other.pk}/restore/")
    assert response.status_code == 200 and response.json()["data"]["is_deleted"] is False
    assert response.json()["data"]["version"] == 3


def test_hard_delete(api, client_with_perms, other, stocked, main):
    assert client_with_perms("stock.delete_warehouse").delete(f"{URL}{other.pk}/?force=true").status_code == 403
    assert api.delete(f"{URL}{main.pk}/?force=true").status_code == 400
    assert api.delete(f"{URL}{other.pk}/?force=true").status_code == 204
    assert not Warehouse.all_objects.filter(pk=other.pk).exists()


def test_hard_delete_with_history(api, stocked, other, main):
    from stock.services import stock_transfer

    stock_transfer(sku=stocked, from_warehouse=main, to_warehouse=other, quantity=1)
    stock_transfer(sku=stocked, from_warehouse=other, to_warehouse=main, quantity=1)
    response = api.delete(f"{URL}{other.pk}/?force=true")
    assert response.status_code == 409 and response.json()["code"] == "has_dependents"


def test_permissions(client_with_perms, anon):
    assert anon.get(URL).status_code == 401
    assert client_with_perms().get(URL).status_code == 403
    assert client_with_perms("stock.view_warehouse").get(URL).status_code == 200
    assert client_with_perms("stock.view_warehouse").post(URL, {"code": "A", "name": "A"}).status_code == 403


def test_deleted_detail_needs_include_deleted(api, other):
    api.delete(f"{URL}{other.pk}/")
    assert api.get(f"{URL}{other.pk}/").status_code == 404
    assert api.delete(f"{URL}{other.pk}/").status_code == 404
    response = api.get(f"{URL}{other.pk}/", {"include_deleted": "true"})
    assert response.status_code == 200 and response.json()["data"]["is_deleted"] is True
    assert api.get(f"{URL}abc/").status_code == 404
