"""Quantities near 2^31-1: every sum or comparison of quantity columns is computed in bigint.

A level whose threshold is the largest int4 and that has anything reserved made every
low-stock test (`on_hand <= reserved + threshold`) overflow on PostgreSQL: `integer out of
range` on each face that shows or filters by low stock. Each face is tried here.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from stock.models import StockLevel
from stock.services import ReservationRequestLine, reservation_create

MAX = 2**31 - 1


@pytest.fixture
def huge_threshold(stocked):
    """`stocked` (10 on hand in MAIN) with 1 unit reserved and the largest threshold: it is low."""
    reservation_create(reference="O-1", lines=[ReservationRequestLine(sku=stocked, quantity=1)])
    StockLevel.objects.filter(sku=stocked).update(low_stock_threshold=MAX)
    return stocked


@pytest.fixture
def staff_client(client, superuser):
    client.force_login(superuser)
    return client


def test_admin_index_panel_lists_the_level(staff_client, huge_threshold):
    response = staff_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert [level.sku_id for level in response.context["levels"]] == [huge_threshold.pk]


@pytest.mark.parametrize("name", ["admin:catalog_product_changelist", "admin:catalog_sku_changelist"])
def test_catalog_changelists_show_it_low(staff_client, huge_threshold, name):
    response = staff_client.get(reverse(name))
    assert response.status_code == 200
    assert 'class="stock-status low"' in response.content.decode()
    filtered = staff_client.get(reverse(name), {"stock": "low"})
    assert filtered.status_code == 200 and len(filtered.context["cl"].result_list) == 1


def test_stock_level_changelist_low_filter(staff_client, huge_threshold):
    response = staff_client.get(reverse("admin:stock_stocklevel_changelist"), {"low": "yes"})
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 1


@pytest.mark.parametrize("url", ["/api/v1/skus/", "/api/v1/stock/levels/"])
def test_api_low_stock_filters(api, huge_threshold, url):
    low = api.get(url, {"low_stock": "true"})
    assert low.status_code == 200 and low.json()["meta"]["total"] == 1
    not_low = api.get(url, {"low_stock": "false"})
    assert not_low.status_code == 200 and not_low.json()["meta"]["total"] == 0


def test_low_stock_report(huge_threshold):
    out = StringIO()
    call_command("low_stock_report", "--format", "csv", stdout=out, stderr=StringIO())
    rows = out.getvalue().splitlines()
    assert rows[1].split(",")[1:] == [
        huge_threshold.sku_code,
        huge_threshold.product.name,
        "10",
        "1",
        "0",
        "0",
        "0",
        "9",
        "0",
        "0",
        str(MAX),
        str(MAX - 9),
    ]


def test_reserving_the_largest_quantity_on_top_of_a_reservation_is_insufficient_stock(api, huge_threshold):
    body = {"reference": "O-2", "lines": [{"sku_code": huge_threshold.sku_code, "quantity": MAX}]}
    response = api.post("/api/v1/stock/reservations/", body, format="json")
    assert response.status_code == 409 and response.json()["code"] == "insufficient_stock"
    assert response.json()["errors"]["lines"]["0"] == {
        "sku_code": huge_threshold.sku_code,
        "available": 9,
        "requested": MAX,
    }
    assert StockLevel.objects.get(sku=huge_threshold).reserved == 1
