"""Admin messages and titles in words: no Python dicts, no internal ids; a 403 page that
names the missing permission; stock actions in "Recent actions"."""

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from stock.models import StockLevel
from stock.services import ReservationRequestLine, reservation_create
from tests.conftest import grant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DICT_OR_ID = re.compile(r"\{'|\d+@\d+")


def text_of(response) -> str:
    return re.sub(r"<[^>]+>", " ", response.content.decode())


def test_a_refused_adjustment_reads_as_a_sentence(staff_client, catalog, main_warehouse):
    level = StockLevel.objects.get(sku=catalog["blue"])
    response = staff_client.post(
        reverse("admin:stock_stocklevel_adjust_level", args=[level.pk]),
        {
            "sku_code": "PHONE-X-BLUE",
            "warehouse": main_warehouse.pk,
            "mode": "delta",
            "amount": -500,
            "reason": "loss",
            "expected_on_hand": 1,
        },
    )
    page = text_of(response)
    assert (
        "Not adjusted (PHONE-X-BLUE at Main warehouse): Not enough stock available (1 available, 500 requested)."
        in page
    )
    assert "{" not in page.split("Not adjusted", 1)[1].split("\n", 1)[0]


def test_a_stale_count_says_what_is_on_hand_now(staff_client, catalog, main_warehouse):
    level = StockLevel.objects.get(sku=catalog["red"])
    response = staff_client.post(
        reverse("admin:stock_stocklevel_adjust_level", args=[level.pk]),
        {
            "sku_code": "PHONE-X-RED",
            "warehouse": main_warehouse.pk,
            "mode": "count",
            "amount": 3,
            "reason": "count",
            "expected_on_hand": 7,
        },
    )
    assert "On-hand changed since it was counted (12 on hand now)." in text_of(response)


def test_level_and_reservation_titles_name_the_sku_and_warehouse(staff_client, catalog, main_warehouse):
    level = StockLevel.objects.get(sku=catalog["red"])
    page = text_of(staff_client.get(reverse("admin:stock_stocklevel_change", args=[level.pk])))
    assert "PHONE-X-RED at Main warehouse" in page
    assert not DICT_OR_ID.search(page)
    reservation = reservation_create(
        reference="ORDER-9", lines=[ReservationRequestLine(sku=catalog["red"], quantity=1)]
    )
    page = text_of(staff_client.get(reverse("admin:stock_reservation_change", args=[reservation.pk])))
    assert "1 × PHONE-X-RED from Main warehouse" in page
    assert not DICT_OR_ID.search(page)


def test_the_403_page_names_the_missing_permission(client, catalog):
    user = grant(UserFactory(is_staff=True), "stock.view_stocklevel")
    client.force_login(user)
    response = client.get(reverse("admin:stock_stocklevel_adjust"))
    assert response.status_code == 403
    page = text_of(response)
    assert "Can adjust stock (receipts, counts, corrections) (stock.adjust_stock)" in page
    assert "Inventory" in page  # the admin's own header: a styled page, not Django's bare one
    response = client.get(reverse("admin:catalog_product_add"))
    assert response.status_code == 403
    assert "Can add product (catalog.add_product)" in text_of(response)


def test_adjustments_show_in_recent_actions(staff_client, catalog, main_warehouse):
    level = StockLevel.objects.get(sku=catalog["red"])
    staff_client.post(
        reverse("admin:stock_stocklevel_adjust_level", args=[level.pk]),
        {
            "sku_code": "PHONE-X-RED",
            "warehouse": main_warehouse.pk,
            "mode": "delta",
            "amount": 5,
            "reason": "receipt",
            "reference": "PO-77",
        },
    )
    entry = LogEntry.objects.get()
    assert entry.object_repr == "PHONE-X-RED at Main warehouse"
    assert "Adjusted by +5 (Receipt, PO-77); now 17 on hand." in entry.get_change_message()
    index = text_of(staff_client.get(reverse("admin:index")))
    assert "PHONE-X-RED at Main warehouse" in index.split("Recent actions", 1)[1]
