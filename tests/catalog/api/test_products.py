"""Product endpoints: CRUD, filters, cascade delete, restore, query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog import services
from catalog.models import SKU, Product
from stock.models import StockLevel, Warehouse
from tests.catalog.factories import CategoryFactory, ProductFactory, SKUFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/products/"


def names(api, query=""):
    response = api.get(URL + query)
    assert response.status_code == 200, response.json()
    return [p["name"] for p in response.json()["data"]]


def test_create_and_retrieve(api):
    category = CategoryFactory()
    response = api.post(
        URL,
        {"name": "Blue Shirt", "category_id": category.pk, "description": "Soft\ncotton", "sku_count": 99},
        format="json",
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["slug"] == "blue-shirt" and data["sku_count"] == 0 and data["category_id"] == category.pk
    assert response.json()["message"] == "Product created"
    response = api.get(f"{URL}{data['id']}/")
    assert response.status_code == 200 and response["ETag"] == '"1"'


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": "x"}, "category_id"),
        ({"name": "x", "category_id": 999999}, "category_id"),
        ({"name": "x", "category_id": True}, "category_id"),
        ({"name": "\t", "category_id": 1}, "name"),
        ({"name": "x" * 151, "category_id": 1}, "name"),
        ({"name": "x", "category_id": 1, "description": "d" * 5001}, "description"),
        ({"name": "x", "category_id": 1, "description": "bad\x00nul"}, "description"),
        ({"name": "x", "category_id": 1, "attributes": "text"}, "attributes"),
        ({"name": "x", "category_id": 1, "attributes": {"k": "a\u0000b"}}, "attributes"),
    ],
)
def test_create_validation(api, payload, field):
    CategoryFactory()  # id 1 in most runs; the field at fault is named either way
    response = api.post(URL, payload, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not Product.all_objects.exists()


def test_create_in_deleted_category_is_400(api):
    category = CategoryFactory()
    services.category_soft_delete(category_id=category.pk)
    response = api.post(URL, {"name": "x", "category_id": category.pk}, format="json")
    assert response.status_code == 400 and "category_id" in response.json()["errors"]


def test_filters(api):
    root = CategoryFactory(name="Root")
    child = CategoryFactory(name="Child", parent=root)
    other = CategoryFactory(name="Other")
    shirt = ProductFactory(name="Shirt", category=root, description="cotton")
    ProductFactory(name="Sock", category=child)
    ProductFactory(name="Hat", category=other)
    SKUFactory(product=shirt, sku_code="ZEBRA-1")
    assert names(api, f"?category_id={root.pk}") == ["Shirt"]
    assert names(api, f"?category_tree={root.pk}") == ["Shirt", "Sock"]
    assert names(api, "?category_tree=999999") == []
    assert names(api, "?search=COTTON") == ["Shirt"]
    assert names(api, "?search=zebra") == ["Shirt"]
    assert names(api, "?search=so") == ["Sock"]
    assert names(api, "?ordering=name") == ["Hat", "Shirt", "Sock"]
    assert names(api, "?ordering=-updated_at,name") == ["Hat", "Sock", "Shirt"]
    for bad in ("?category_id=x", "?category_tree=-1", "?created_after=yesterday", "?ordering=price"):
        assert api.get(URL + bad).status_code == 400, bad


def test_created_range_is_inclusive(api):
    product = ProductFactory(name="P")
    stamp = Product.objects.get(pk=product.pk).created_at
    iso = stamp.isoformat()
    assert names(api, "?" + f"created_after={iso}".replace("+", "%2B")) == ["P"]
    assert names(api, "?" + f"created_before={iso}".replace("+", "%2B")) == ["P"]
    later = (stamp + datetime.timedelta(seconds=1)).isoformat().replace("+", "%2B")
    assert names(api, f"?created_after={later}") == []
    today = timezone.localdate(stamp).isoformat()
    assert names(api, f"?created_before={today}&created_after={today}") == ["P"]


def test_delete_cascade_and_restore(api):
    sku = SKUFactory()
    url = f"{URL}{sku.product_id}/"
    response = api.delete(url)
    assert response.status_code == 409 and response.json()["code"] == "has_dependents"
    assert api.delete(url + "?cascade=maybe").status_code == 400
    assert api.delete(url + "?cascade=true").status_code == 204
    assert SKU.all_objects.get(pk=sku.pk).is_deleted
    response = api.post(url + "restore/")
    assert response.status_code == 200 and response.json()["data"]["sku_count"] == 1
    assert not SKU.all_objects.get(pk=sku.pk).is_deleted


def test_cascade_delete_refused_with_reserved_stock(api):
    sku = SKUFactory()
    StockLevel.objects.create(sku=sku, warehouse=Warehouse.objects.get(code="MAIN"), on_hand=2, reserved=2)
    response = api.delete(f"{URL}{sku.product_id}/?cascade=true")
    assert response.status_code == 409 and response.json()["code"] == "has_reserved_stock"
    assert not Product.all_objects.get(pk=sku.product_id).is_deleted


def test_restore_in_deleted_category_is_409(api):
    product = ProductFactory()
    api.delete(f"{URL}{product.pk}/")
    services.category_soft_delete(category_id=product.category_id)
    response = api.post(f"{URL}{product.pk}/restore/")
    assert response.status_code == 409 and response.json()["code"] == "parent_deleted"


def test_sku_count_and_query_count_flat(api):
    category = CategoryFactory()
    for _ in range(25):
        product = ProductFactory(category=category)
        SKUFactory(product=product)
        SKUFactory(product=product)
    for query in ("", f"?category_tree={category.pk}&search=Product"):
        with CaptureQueriesContext(connection) as small:
            assert api.get(URL + "?size=2" + query.replace("?", "&")).status_code == 200
        with CaptureQueriesContext(connection) as large:
            response = api.get(URL + "?size=25" + query.replace("?", "&"))
        assert len(small) == len(large) <= 4
    assert {p["sku_count"] for p in response.json()["data"]} == {2}


def test_permissions(client_with_perms, anon):
    product = ProductFactory()
    assert anon.get(URL).status_code == 401
    viewer = client_with_perms("catalog.view_product")
    assert viewer.get(URL).status_code == 200
    assert viewer.patch(f"{URL}{product.pk}/", {"name": "n"}, format="json").status_code == 403
    assert viewer.delete(f"{URL}{product.pk}/").status_code == 403
    editor = client_with_perms("catalog.change_product")
    assert editor.patch(f"{URL}{product.pk}/", {"name": "n"}, format="json").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "created_before=9999-12-31",
        "created_after=0001-01-01",
        "created_before=9999-12-31T23:59:59",
        "created_after=0001-01-01T00:00:00%2B05:00",
    ],
)
def test_extreme_dates_are_not_500(api, query):
    ProductFactory()
    assert api.get(f"{URL}?{query}").status_code in (200, 400)


class TestProductIdentity:
    """A product is its name (any case) among the active products of its category: the API,
    the admin and import_catalog (which matches rows by it) agree."""

    def test_the_same_name_in_one_category_is_a_duplicate(self, api):
        category = CategoryFactory()
        assert api.post(URL, {"name": "Phone", "category_id": category.pk}, format="json").status_code == 201
        before = Product.all_objects.count()
        response = api.post(URL, {"name": "PHONE", "category_id": category.pk}, format="json")
        assert response.status_code == 409
        assert response.json()["code"] == "duplicate"
        assert "already exists in this category" in response.json()["message"]
        assert Product.all_objects.count() == before

    def test_the_name_is_free_in_another_category_and_after_a_delete(self, api):
        one, two = CategoryFactory(), CategoryFactory()
        first = api.post(URL, {"name": "Phone", "category_id": one.pk}, format="json").json()["data"]
        assert api.post(URL, {"name": "Phone", "category_id": two.pk}, format="json").status_code == 201
        api.delete(f"{URL}{first['id']}/")
        assert api.post(URL, {"name": "phone", "category_id": one.pk}, format="json").status_code == 201
        # ... and the deleted one cannot come back while its name is taken.
        response = api.post(f"{URL}{first['id']}/restore/")
        assert response.status_code == 409 and response.json()["code"] == "duplicate"

    def test_rename_or_move_onto_a_taken_name_is_a_duplicate(self, api):
        one, two = CategoryFactory(), CategoryFactory()
        services.product_create(name="Phone", category_id=one.pk)
        other = services.product_create(name="Tablet", category_id=one.pk)
        moving = services.product_create(name="Phone", category_id=two.pk)
        assert api.patch(f"{URL}{other.pk}/", {"name": "phone"}, format="json").status_code == 409
        assert api.patch(f"{URL}{moving.pk}/", {"category_id": one.pk}, format="json").status_code == 409
        assert Product.objects.get(pk=moving.pk).category_id == two.pk

    def test_the_database_holds_the_rule(self, db):
        from django.db import IntegrityError

        category = CategoryFactory()
        Product.objects.create(name="Phone", slug="phone", category=category)
        with pytest.raises(IntegrityError, match="product_unique_active_name_in_category"):
            Product.objects.create(name="PHONE", slug="phone", category=category)


def test_search_is_one_selector_for_the_api_and_the_admin(api, client, superuser):
    """The admin's product search and the API's `search` find the same products."""
    category = CategoryFactory()
    by_code = services.product_create(name="Plain", category_id=category.pk)
    services.sku_create(sku_code="ZEBRA-1", product_id=by_code.pk, price="1.00")
    by_name = services.product_create(name="Zebra lamp", category_id=category.pk)
    gone = services.product_create(name="Old", category_id=category.pk)
    services.sku_soft_delete(sku_id=services.sku_create(sku_code="ZEBRA-OLD", product_id=gone.pk, price="1").pk)
    api_found = {p["id"] for p in api.get(URL + "?search=zebra").json()["data"]}
    client.force_login(superuser)
    response = client.get("/admin/catalog/product/?q=zebra")
    admin_found = {p.pk for p in response.context["cl"].result_list}
    assert api_found == admin_found == {by_code.pk, by_name.pk}
