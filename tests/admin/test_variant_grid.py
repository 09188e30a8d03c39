"""The product page's variant grid: one row per SKU, inline price/attributes/status/backorder
policy, new rows, bulk price changes computed by the server, all or nothing, and a save whose
query count does not grow with the product's SKUs."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import SKU
from stock.services import stock_receive
from tests.admin.conftest import product_form, text_of
from tests.catalog.factories import ProductFactory, SKUFactory

pytestmark = pytest.mark.django_db


def product_post(product, changes=None, *, new_rows=0) -> dict:
    return product_form(product, changes, new_rows=new_rows)


def change_url(product) -> str:
    return reverse("admin:catalog_product_change", args=[product.pk])


def test_the_grid_shows_one_row_per_sku_with_its_stock(staff_client, catalog):
    page = staff_client.get(change_url(catalog["product"]))
    html = page.content.decode()
    assert html.count('class="variant-row') == 2 + 1  # two SKUs and one blank row
    grid = page.context["variant_grid"]
    assert [row.code for row in grid.rows if row.pk] == ["PHONE-X-BLUE", "PHONE-X-RED"]
    assert grid.columns == ["color"]
    red = next(row for row in grid.rows if row.code == "PHONE-X-RED")
    assert red.attributes == ["red"] and red.price == "499.00" and red.stock[0].available == 12
    assert 'name="skus-TOTAL_FORMS"' not in html  # no inline formset


def test_saving_prices_attributes_status_and_policy_through_the_services(staff_client, catalog):
    product, red, blue = catalog["product"], catalog["red"], catalog["blue"]
    response = staff_client.post(
        change_url(product),
        product_post(
            product,
            {
                f"v-{red.pk}-price": "450.00",
                f"v-{red.pk}-a0": "crimson",
                f"v-{red.pk}-backorder_policy": "allow_incoming",
                f"v-{blue.pk}-status": "inactive",
            },
        ),
    )
    assert response.status_code == 302, text_of(response)[:2000]
    red.refresh_from_db()
    assert (red.price, red.attributes, red.backorder_policy, red.version) == (
        Decimal("450.00"),
        {"color": "crimson"},
        "allow_incoming",
        2,
    )
    assert SKU.all_objects.get(pk=blue.pk).is_deleted
    assert red.history.first().history_user.username == "admin"
    # Back to active from the grid.
    response = staff_client.post(change_url(product), product_post(product, {f"v-{blue.pk}-status": "active"}))
    assert response.status_code == 302
    assert not SKU.all_objects.get(pk=blue.pk).is_deleted


def test_a_new_row_creates_a_sku(staff_client, catalog):
    product = catalog["product"]
    response = staff_client.post(
        change_url(product),
        product_post(
            product,
            {
                "n-0-code": "PHONE-X-GOLD",
                "n-0-price": "519.00",
                "n-0-a0": "gold",
                "n-0-status": "active",
                "n-0-backorder_policy": "deny",
            },
            new_rows=1,
        ),
    )
    assert response.status_code == 302
    gold = SKU.objects.get(sku_code="PHONE-X-GOLD")
    assert (gold.product_id, gold.price, gold.attributes) == (product.pk, Decimal("519.00"), {"color": "gold"})


def test_one_refused_row_saves_nothing_and_names_the_row(staff_client, catalog):
    product, red, blue = catalog["product"], catalog["red"], catalog["blue"]
    response = staff_client.post(
        change_url(product), product_post(product, {f"v-{red.pk}-price": "450.00", f"v-{blue.pk}-price": "-3"})
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "1 of the variants could not be saved (PHONE-X-BLUE:" in page and "Nothing was saved." in page
    row = next(r for r in response.context["variant_grid"].rows if r.code == "PHONE-X-BLUE")
    assert row.error and row.price == "-3"  # what was typed stays, with its error
    red.refresh_from_db()
    assert red.price == Decimal("499.00")


def test_a_row_changed_by_someone_else_is_refused(staff_client, catalog):
    product, red = catalog["product"], catalog["red"]
    data = product_post(product, {f"v-{red.pk}-price": "450.00"})
    SKU.objects.filter(pk=red.pk).update(version=5)
    response = staff_client.post(change_url(product), data)
    assert response.status_code == 200
    assert "PHONE-X-RED: Changed by someone else since you opened this page (now version 5)" in text_of(response)
    red.refresh_from_db()
    assert red.price == Decimal("499.00")


def test_the_bulk_price_change_is_the_services_rule(staff_client, catalog):
    url = reverse("admin:catalog_product_variant_price")
    answer = staff_client.post(url, {"how": "percent", "value": "-10", "price": ["499.00", "0.05"]})
    assert answer.json() == {"prices": ["449.10", "0.05"]}  # 0.045 rounds half up
    answer = staff_client.post(url, {"how": "amount", "value": "2.5", "price": ["1.00"]})
    assert answer.json() == {"prices": ["3.50"]}
    refused = staff_client.post(url, {"how": "amount", "value": "a lot", "price": ["1.00"]})
    assert refused.status_code == 400 and "Give a number" in refused.json()["error"]


def _product_with(count: int, main_warehouse):
    product = ProductFactory(name=f"Tee {count}")
    skus = [
        SKUFactory(product=product, sku_code=f"TEE{count}-{n:03d}", price=Decimal("10.00"), attributes={"size": str(n)})
        for n in range(count)
    ]
    for sku in skus[:5]:
        stock_receive(sku=sku, quantity=3)
    return product, skus


def _save_queries(client, product, skus) -> int:
    changes = {f"v-{sku.pk}-price": "12.50" for sku in skus[:20]}
    data = product_post(product, changes)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(change_url(product), data)
    assert response.status_code == 302
    assert SKU.objects.filter(product=product, price=Decimal("12.50")).count() == 20
    return len(queries)


def test_a_saves_queries_do_not_grow_with_the_skus(staff_client, main_warehouse):
    small = _save_queries(staff_client, *_product_with(50, main_warehouse))
    large = _save_queries(staff_client, *_product_with(150, main_warehouse))
    assert small == large, (small, large)
