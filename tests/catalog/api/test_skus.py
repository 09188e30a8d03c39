"""SKU endpoints: prices, codes, filters, ordering, soft delete, query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import SKU
from tests.catalog.factories import CategoryFactory, ProductFactory, SKUFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/skus/"


def codes(api, query=""):
    response = api.get(URL + query)
    assert response.status_code == 200, response.json()
    return [s["sku_code"] for s in response.json()["data"]]


@pytest.mark.parametrize(
    "price, stored", [("19.99", "19.99"), (19.5, "19.50"), (0, "0.00"), ("99999999.99", "99999999.99"), (7, "7.00")]
)
def test_price_accepted_as_string_or_number(api, price, stored):
    product = ProductFactory()
    response = api.post(URL, {"sku_code": "A-1", "product_id": product.pk, "price": price}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["data"]["price"] == stored and response.json()["message"] == "SKU created"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"price": "19.999"}, "price"),
        ({"price": 19.999}, "price"),
        ({"price": "-0.01"}, "price"),
        ({"price": "100000000.00"}, "price"),
        ({"price": "NaN"}, "price"),
        ({"price": True}, "price"),
        ({"price": "abc"}, "price"),
        ({"sku_code": "has space"}, "sku_code"),
        ({"sku_code": ""}, "sku_code"),
        ({"sku_code": "x" * 51}, "sku_code"),
        ({"sku_code": 123}, "sku_code"),
        ({"product_id": 1.5}, "product_id"),
        ({"product_id": 999999}, "product_id"),
        ({"inventory_count": -1}, "inventory_count"),
        ({"inventory_count": 2**31}, "inventory_count"),
        ({"attributes": None}, "attributes"),
    ],
)
def test_create_validation(api, payload, field):
    product = ProductFactory()
    body = {"sku_code": "OK-1", "product_id": product.pk, "price": "1.00", **payload}
    response = api.post(URL, body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "validation_error" and field in response.json()["errors"]
    assert not SKU.all_objects.exists()


def test_code_reserved_while_deleted_case_insensitive(api):
    sku = SKUFactory(sku_code="TSHIRT-RED-M")
    assert api.delete(f"{URL}{sku.pk}/").status_code == 204
    response = api.post(URL, {"sku_code": "tshirt-red-m", "product_id": sku.product_id, "price": "1"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "duplicate"


def test_inventory_count_on_create_and_not_on_update(api):
    product = ProductFactory()
    response = api.post(
        URL, {"sku_code": "S-1", "product_id": product.pk, "price": "1", "inventory_count": 0}, format="json"
    )
    assert response.status_code == 201
    sku_id = response.json()["data"]["id"]
    response = api.patch(f"{URL}{sku_id}/", {"inventory_count": 5}, format="json")
    assert response.status_code == 400 and "inventory_count" in response.json()["errors"]


def test_update_price_and_version(api):
    sku = SKUFactory(price="1.00")
    response = api.patch(f"{URL}{sku.pk}/", {"price": "2.50", "version": 1}, format="json")
    assert response.status_code == 200 and response.json()["data"]["price"] == "2.50"
    response = api.patch(f"{URL}{sku.pk}/", {"price": "3.00", "version": 1}, format="json")
    assert response.status_code == 409 and response.json()["errors"] == {"current_version": 2}
    assert SKU.objects.get(pk=sku.pk).price == 2.5


def test_filters_and_ordering(api):
    root = CategoryFactory(name="Root")
    child = CategoryFactory(name="Child", parent=root)
    shirt = ProductFactory(name="Shirt", category=root)
    sock = ProductFactory(name="Sock", category=child)
    hat = ProductFactory(name="Hat", category=CategoryFactory(name="Other"))
    SKUFactory(sku_code="SHIRT-M", product=shirt, price="20.00")
    SKUFactory(sku_code="SOCK-1", product=sock, price="5.00")
    gone = SKUFactory(sku_code="HAT-1", product=hat, price="10.00")
    api.delete(f"{URL}{gone.pk}/")
    assert codes(api) == ["SHIRT-M", "SOCK-1"]
    assert codes(api, "?include_deleted=true&ordering=price") == ["SOCK-1", "HAT-1", "SHIRT-M"]
    assert codes(api, f"?product_id={sock.pk}") == ["SOCK-1"]
    assert codes(api, f"?category_tree={root.pk}") == ["SHIRT-M", "SOCK-1"]
    assert codes(api, f"?category_tree={child.pk}") == ["SOCK-1"]
    assert codes(api, "?sku_code=shirt-m") == ["SHIRT-M"]
    assert codes(api, "?price_min=5&price_max=5.00") == ["SOCK-1"]
    assert codes(api, "?price_min=6") == ["SHIRT-M"]
    assert codes(api, "?search=sock") == ["SOCK-1"]
    assert codes(api, "?ordering=-sku_code") == ["SOCK-1", "SHIRT-M"]
    assert codes(api, "?ordering=-created_at") == ["SOCK-1", "SHIRT-M"]
    for bad in ("?price_min=abc", "?price_max=1.999", "?product_id=true", "?include_deleted=1", "?search=%00"):
        response = api.get(URL + bad)
        assert response.status_code == 400 and response.json()["code"] == "validation_error", bad


def test_restore_and_force_delete(api):
    sku = SKUFactory()
    api.delete(f"{URL}{sku.pk}/")
    response = api.post(f"{URL}{sku.pk}/restore/")
    assert response.status_code == 200 and response.json()["data"]["version"] == 3
    assert api.delete(f"{URL}{sku.pk}/?force=true").status_code == 204
    assert not SKU.all_objects.exists()


def test_list_query_count_flat(api):
    product = ProductFactory()
    for _ in range(30):
        SKUFactory(product=product)
    with CaptureQueriesContext(connection) as small:
        assert api.get(URL + "?size=2").status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert api.get(URL + "?size=30").status_code == 200
    assert len(small) == len(large) <= 4  # 4th: the stock sums of the page (stock.selectors.sku_stock_totals)
