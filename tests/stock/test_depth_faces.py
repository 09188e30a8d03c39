"""Issue 14 through the faces where it lacked a test: the admin level list ordered and filtered by
the one `available` (states and safety stock included), the `most_stock` strategy over HTTP (by
available, not on hand), a backordered reservation released from the admin, the admin's receive
screen allocating backorders with their events."""

import pytest
from django.contrib import admin
from django.urls import reverse

from events.models import Event
from stock.models import Reservation, StockLevel
from stock.services import (
    InboundLineInput,
    ReservationRequestLine,
    inbound_create,
    inbound_open,
    reservation_create,
    stock_receive,
    stock_state_move,
)
from tests.stock.conftest import stored_level
from tests.stock.factories import SKUFactory

pytestmark = pytest.mark.django_db
# The changelist's `o` names a column by its position in list_display, after the action checkbox.
AVAILABLE_COLUMN = admin.site._registry[StockLevel].list_display.index("available_now") + 1


@pytest.fixture
def staff_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def levels(main, other):
    """MAIN holds most on hand but, after damage and safety stock, the least available."""
    sku = SKUFactory(sku_code="FACE-1")
    stock_receive(sku=sku, quantity=20)
    stock_receive(sku=sku, warehouse=other, quantity=10)
    stock_state_move(sku=sku, warehouse=main, quantity=12, from_state="sellable", to_state="damaged", reason="damage")
    StockLevel.objects.filter(sku=sku, warehouse=main).update(safety_stock=3, low_stock_threshold=5)  # available 5
    StockLevel.objects.filter(sku=sku, warehouse=other).update(low_stock_threshold=5)  # available 10
    return sku


def test_admin_level_list_orders_and_filters_by_the_one_available(staff_client, levels):
    url = reverse("admin:stock_stocklevel_changelist")
    ascending = staff_client.get(url, {"o": str(AVAILABLE_COLUMN)})
    assert [(lv.warehouse.code, lv.effective_available) for lv in ascending.context["cl"].result_list] == [
        ("MAIN", 5),
        ("EAST", 10),
    ]
    descending = staff_client.get(url, {"o": f"-{AVAILABLE_COLUMN}"})
    assert [lv.warehouse.code for lv in descending.context["cl"].result_list] == ["EAST", "MAIN"]
    low = staff_client.get(url, {"low": "yes"}).context["cl"].result_list
    assert [lv.warehouse.code for lv in low] == ["MAIN"]  # 20 on hand, low by its states
    assert [lv.warehouse.code for lv in staff_client.get(url, {"low": "no"}).context["cl"].result_list] == ["EAST"]


def test_most_stock_strategy_over_http_places_by_available(api, levels, settings):
    settings.STOCK_ALLOCATION_STRATEGY = "most_stock"
    body = {"reference": "MOST-1", "lines": [{"sku_code": "FACE-1", "quantity": 4}]}
    response = api.post("/api/v1/stock/reservations/", body, format="json")
    assert response.status_code == 201, response.json()
    assert [(ln["warehouse"], ln["quantity"]) for ln in response.json()["data"]["lines"]] == [("EAST", 4)]
    settings.STOCK_ALLOCATION_STRATEGY = "priority"  # MAIN first by priority (the default warehouse): 5 left there
    response = api.post("/api/v1/stock/reservations/", body | {"reference": "PRIO-1"}, format="json")
    assert [ln["warehouse"] for ln in response.json()["data"]["lines"]] == ["MAIN"]


def test_a_backordered_reservation_is_released_from_the_admin(staff_client, main):
    sku = SKUFactory(sku_code="FACE-PRE", backorder_policy="allow_incoming")
    stock_receive(sku=sku, quantity=2)
    inbound_open(
        shipment=inbound_create(
            reference="PO-FACE", warehouse=main, lines=[InboundLineInput(sku=sku, quantity_expected=10)]
        )
    )
    waiting = reservation_create(reference="FACE-WAIT", lines=[ReservationRequestLine(sku=sku, quantity=6)])
    level = StockLevel.objects.get(sku=sku)
    assert (level.reserved, level.backordered) == (2, 4)

    response = staff_client.post(
        reverse("admin:stock_reservation_changelist"),
        {"action": "release_selected", "_selected_action": [waiting.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert any("Released" in str(m) for m in response.context["messages"])
    assert Reservation.objects.get(pk=waiting.pk).status == "released"
    level.refresh_from_db()
    assert (level.on_hand, level.reserved, level.backordered, level.incoming) == (2, 0, 0, 10)


def test_a_receipt_on_the_admin_screen_allocates_backorders_with_their_events(staff_client, main):
    sku = SKUFactory(sku_code="FACE-RCV", backorder_policy="allow_incoming")
    shipment = inbound_open(
        shipment=inbound_create(
            reference="PO-RCV", warehouse=main, lines=[InboundLineInput(sku=sku, quantity_expected=10)]
        )
    )
    older = reservation_create(
        reference="FACE-OLD", ttl_seconds=30 * 24 * 3600, lines=[ReservationRequestLine(sku=sku, quantity=4)]
    )
    newer = reservation_create(reference="FACE-NEW", lines=[ReservationRequestLine(sku=sku, quantity=3)])
    last_event = Event.objects.order_by("-id").values_list("id", flat=True).first()

    response = staff_client.post(
        reverse("admin:stock_inboundshipment_receive", args=[shipment.pk]), {"lines": "face-rcv 5"}
    )

    assert response.status_code == 302
    lines = {r.reference: r.lines.get() for r in Reservation.objects.filter(pk__in=[older.pk, newer.pk])}
    assert (lines["FACE-OLD"].backordered, lines["FACE-NEW"].backordered) == (0, 2)  # oldest first
    level = stored_level(sku=sku)
    assert (level.on_hand, level.reserved, level.backordered, level.incoming, level.available) == (5, 5, 2, 5, 0)
    since = Event.objects.filter(id__gt=last_event)
    assert set(since.filter(type="reservation.allocated").values_list("reference", flat=True)) == {
        "FACE-OLD",
        "FACE-NEW",
    }
    changed = since.filter(type="stock.level.changed").order_by("id")
    assert [e.data["reserved"] for e in changed] == [0, 4, 5, 5]  # receipt, two allocations, incoming down
    assert changed.last().data["incoming"] == 5 and changed.last().data["available"] == 0
    assert Reservation.objects.get(pk=older.pk).expires_at < older.expires_at  # capped once allocated
