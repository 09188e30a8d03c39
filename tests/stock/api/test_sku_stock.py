"""The stock figures and filters the stock app adds to /api/v1/skus/."""

import pytest

from stock.models import StockMovement
from stock.services import ReservationRequestLine, reservation_create, stock_adjust, stock_receive
from tests.stock.factories import ProductFactory, SKUFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/skus/"


def figures(row):
    return (row["inventory_count"], row["on_hand"], row["reserved"], row["available"])


def test_create_with_inventory_count(api, main):
    product = ProductFactory()
    response = api.post(URL, {"sku_code": "NEW-1", "product_id": product.pk, "price": "1.00", "inventory_count": 7})
    assert response.status_code == 201, response.json()
    assert figures(response.json()["data"]) == (7, 7, 0, 7)
    movement = StockMovement.objects.get()
    assert (movement.reason, movement.delta, movement.warehouse_id) == ("receipt", 7, main.pk)


def test_update_inventory_count_is_400(api, stocked):
    response = api.patch(f"{URL}{stocked.pk}/", {"inventory_count": 3})
    assert response.status_code == 400 and "inventory_count" in response.json()["errors"]


def test_figures_over_warehouses_and_expiry(api, stocked, other, later):
    stock_receive(sku=stocked, warehouse=other, quantity=5)
    reservation_create(reference="O", lines=[ReservationRequestLine(sku=stocked, quantity=4)], ttl_seconds=60)
    assert figures(api.get(f"{URL}{stocked.pk}/").json()["data"]) == (15, 15, 4, 11)
    later(61)
    assert figures(api.get(URL).json()["data"][0]) == (15, 15, 0, 15)


def test_in_stock_low_stock_and_ordering(api, main):
    full, empty, little = SKUFactory(sku_code="A-FULL"), SKUFactory(sku_code="B-EMPTY"), SKUFactory(sku_code="C-LITTLE")
    stock_receive(sku=full, quantity=50)
    stock_receive(sku=little, quantity=2)
    stock_receive(sku=empty, quantity=1)
    stock_adjust(sku=empty, delta=-1, reason="loss")
    from stock.models import StockLevel

    StockLevel.objects.filter(sku=little).update(low_stock_threshold=5)

    def codes(**params):
        response = api.get(URL, params)
        assert response.status_code == 200, response.json()
        return [row["sku_code"] for row in response.json()["data"]]

    assert codes(in_stock="true") == ["A-FULL", "C-LITTLE"]
    assert codes(in_stock="false") == ["B-EMPTY"]
    assert codes(low_stock="true") == ["B-EMPTY", "C-LITTLE"]
    assert codes(low_stock="false") == ["A-FULL"]
    assert codes(ordering="-available") == ["A-FULL", "C-LITTLE", "B-EMPTY"]
    assert codes(ordering="available", in_stock="true") == ["C-LITTLE", "A-FULL"]
    assert api.get(URL, {"in_stock": "yes"}).status_code == 400


def test_list_queries_flat(api, main, django_assert_max_num_queries):
    product = ProductFactory()
    for n in range(30):
        stock_receive(sku=SKUFactory(product=product), quantity=n + 1)
    with django_assert_max_num_queries(7):
        response = api.get(URL, {"size": 100})
    assert len(response.json()["data"]) == 30
    with django_assert_max_num_queries(7):
        api.get(URL, {"size": 100, "ordering": "available", "in_stock": "true", "low_stock": "false"})
