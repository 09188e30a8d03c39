"""The dashboard on the admin index and the SKU page's chart: figures from the selectors,
sums in bigint, Chart.js from static files."""

import json
import re
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from stock.models import StockLevel
from stock.selectors_dashboard import sku_stock_series, warehouse_totals
from stock.services import ReservationRequestLine, reservation_create, reservation_release, stock_adjust
from tests.catalog.factories import SKUFactory

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_index_shows_units_value_attention_and_expiring(staff_client, catalog, main_warehouse):
    StockLevel.objects.filter(sku=catalog["blue"]).update(low_stock_threshold=3)
    reservation_create(
        reference="ORDER-SOON", ttl_seconds=600, lines=[ReservationRequestLine(sku=catalog["red"], quantity=2)]
    )
    response = staff_client.get(reverse("admin:index"))
    page = text_of(response)
    # 13 units at 499.00 each.
    assert "Main warehouse 2 13 2 6,487.00" in page
    assert "Stock levels at or below threshold 1" in page
    assert "SKUs out of stock 0" in page
    assert re.search(r"ORDER-SOON 2 units in (9|10) minutes", page)
    html = response.content.decode()
    assert f'href="{reverse("admin:stock_stocklevel_changelist")}?low=yes"' in html
    # No script or stylesheet from a CDN (only URLs are searched: a CSRF token may contain "cdn").
    urls = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert "vendor/chartjs/chart.umd.min.js" in html and not any("cdn" in url.lower() for url in urls)


def test_sums_do_not_overflow_int4(db, main_warehouse):
    for n in range(3):
        sku = SKUFactory(sku_code=f"BIG-{n}", price=Decimal("2.00"))
        StockLevel.objects.create(sku=sku, warehouse=main_warehouse, on_hand=2_000_000_000)
    totals = {row.code: row for row in warehouse_totals()}
    assert totals["MAIN"].units == 6_000_000_000
    assert totals["MAIN"].value == Decimal("12000000000.00")


def test_series_follows_the_ledger_and_reservations(db, catalog, main_warehouse):
    red = catalog["red"]
    stock_adjust(sku=red, delta=8, reason="receipt")
    reservation = reservation_create(reference="O-1", lines=[ReservationRequestLine(sku=red, quantity=5)])
    reservation_release(reservation=reservation)
    series = sku_stock_series(sku=red)
    assert [(p["on_hand"], p["available"]) for p in series] == [(12, 12), (20, 20), (20, 15), (20, 20)]


def test_sku_page_and_dashboard_chart_data(staff_client, catalog):
    html = staff_client.get(reverse("admin:catalog_sku_change", args=[catalog["red"].pk])).content.decode()
    assert 'id="sku-stock-chart"' in html
    data = json.loads(
        re.search(r'<script id="sku-stock-chart-data" type="application/json">(.*?)</script>', html).group(1)
    )
    assert data[-1]["on_hand"] == 12
    html = staff_client.get(reverse("admin:index"), {"sku": "phone-x-blue"}).content.decode()
    assert 'data-sku="PHONE-X-BLUE"' in html
    assert "No SKU with code NOPE" in text_of(staff_client.get(reverse("admin:index"), {"sku": "NOPE"}))
    assert finders.find("vendor/chartjs/chart.umd.min.js")
    assert 'src="/static/vendor/chartjs/chart.umd.min.js"' in html
    assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', html)  # no CDN


def test_dashboard_hidden_without_stock_view(client, catalog):
    from tests.conftest import grant
    from tests.factories import UserFactory

    client.force_login(grant(UserFactory(is_staff=True), "catalog.view_product"))
    assert "stock-dashboard" not in client.get(reverse("admin:index")).content.decode()
