"""Stock by warehouse on the product and SKU screens: which level is low, and a badge that
does not call a SKU low when only one of its warehouses is; price range on products."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from stock.models import StockLevel
from stock.services import stock_receive
from stock.services.warehouses import warehouse_create
from tests.catalog.factories import SKUFactory

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def east_low(catalog):
    """PHONE-X-RED: 12 at MAIN (fine) and 3 at EAST, whose threshold is 5 (low)."""
    east = warehouse_create(code="EAST", name="East depot")
    stock_receive(sku=catalog["red"], warehouse=east, quantity=3)
    StockLevel.objects.filter(sku=catalog["red"], warehouse=east).update(low_stock_threshold=5)
    return east


def test_sku_list_names_the_low_warehouse_instead_of_calling_the_sku_low(staff_client, catalog, east_low):
    page = text_of(staff_client.get(reverse("admin:catalog_sku_changelist"))).split(" Filter ")[0]
    row = page.split("PHONE-X-RED", 1)[1].split("PHONE-X-BLUE")[0]
    assert "Low at EAST" in row
    assert not re.search(r"\bLow\b(?! at)", row)
    assert "EAST 3 low, ≤ 5" in row and "MAIN 12 " in row
    assert (
        'title="East depot: 3 available, 3 on hand; low (threshold 5)"'
        in staff_client.get(reverse("admin:catalog_sku_changelist")).content.decode()
    )


def test_sku_page_shows_the_breakdown(staff_client, catalog, east_low):
    page = text_of(staff_client.get(reverse("admin:catalog_sku_change", args=[catalog["red"].pk])))
    assert "15 on hand, 0 reserved, 15 available Low at EAST" in page
    assert "EAST 3 available 3 on hand low (threshold 5)" in page and "MAIN 12 available 12 on hand" in page


def test_product_list_and_page_show_warehouses_and_price_range(staff_client, catalog, east_low):
    SKUFactory(sku_code="PHONE-X-GOLD", product=catalog["product"], price=Decimal("899.50"))
    page = text_of(staff_client.get(reverse("admin:catalog_product_changelist")))
    assert "499.00–899.50 EUR" in page
    assert "Low at EAST" in page
    assert "EAST 3 1/1 low" in page and "MAIN 13 " in page
    response = staff_client.get(reverse("admin:catalog_product_change", args=[catalog["product"].pk]))
    page = text_of(response)
    assert "Stock by warehouse" in page and "EAST 3 available 3 on hand 1 of 1 SKUs low" in page
    # The variant grid's rows carry their stock per warehouse: EAST low for the red SKU.
    assert '<span title="3 on hand at East depot" class="stock-status low">3</span>' in response.content.decode()


def test_lists_cost_the_same_queries_for_more_rows(staff_client, catalog, east_low, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(url):
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(url).status_code == 200
        return len(captured)

    urls = [reverse("admin:catalog_sku_changelist"), reverse("admin:catalog_product_changelist")]
    before = [count(url) for url in urls]
    for n in range(8):
        sku = SKUFactory(sku_code=f"MORE-{n}", product=catalog["product"] if n % 2 else SKUFactory().product)
        stock_receive(sku=sku, quantity=2)
        stock_receive(sku=sku, warehouse=east_low, quantity=1)
    assert [count(url) for url in urls] == before
