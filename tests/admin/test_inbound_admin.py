"""The inbound admin: drafts with lines, open/cancel actions, the receive screen, reorder
suggestions, and backordered reservations on the reservation list."""

import pytest
from django.urls import reverse

from stock.models import InboundShipment, InboundStatus, StockLevel, StockMovement
from stock.services import (
    InboundLineInput,
    ReservationRequestLine,
    inbound_create,
    inbound_open,
    reservation_create,
)

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:stock_inboundshipment_changelist"


def _line_formset(prefix="lines", rows=()):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, (sku, quantity) in enumerate(rows):
        data[f"{prefix}-{index}-sku"] = str(sku.pk)
        data[f"{prefix}-{index}-quantity_expected"] = str(quantity)
    return data


@pytest.fixture
def red(catalog):
    return catalog["red"]


def test_add_a_draft_with_lines_through_the_service(staff_client, red, main_warehouse):
    response = staff_client.post(
        reverse("admin:stock_inboundshipment_add"),
        {
            "reference": "PO-77",
            "supplier": "Acme",
            "warehouse": main_warehouse.pk,
            "note": "",
            **_line_formset(rows=[(red, 5)]),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    shipment = InboundShipment.objects.get(reference="PO-77")
    assert shipment.status == InboundStatus.DRAFT and shipment.lines.get().quantity_expected == 5
    assert shipment.history.count() == 1


def test_a_duplicate_reference_is_a_form_error(staff_client, red, main_warehouse):
    inbound_create(reference="PO-77", warehouse=main_warehouse, lines=[InboundLineInput(sku=red, quantity_expected=1)])
    response = staff_client.post(
        reverse("admin:stock_inboundshipment_add"),
        {
            "reference": "PO-77",
            "supplier": "",
            "warehouse": main_warehouse.pk,
            "note": "",
            **_line_formset(rows=[(red, 5)]),
        },
    )
    assert response.status_code == 200
    assert InboundShipment.objects.count() == 1


def test_open_and_cancel_actions(staff_client, red, main_warehouse):
    shipment = inbound_create(
        reference="PO-77", warehouse=main_warehouse, lines=[InboundLineInput(sku=red, quantity_expected=4)]
    )
    url = reverse(CHANGELIST)
    staff_client.post(url, {"action": "open_selected", "_selected_action": [shipment.pk]})
    assert StockLevel.objects.get(sku=red, warehouse=main_warehouse).incoming == 4
    staff_client.post(url, {"action": "cancel_selected", "_selected_action": [shipment.pk]})
    shipment.refresh_from_db()
    assert shipment.status == InboundStatus.CANCELLED
    assert StockLevel.objects.get(sku=red, warehouse=main_warehouse).incoming == 0
    listed = staff_client.get(url)
    assert "PO-77" in listed.content.decode()


def test_receive_screen_all_or_nothing(staff_client, red, main_warehouse):
    shipment = inbound_open(
        shipment=inbound_create(
            reference="PO-77", warehouse=main_warehouse, lines=[InboundLineInput(sku=red, quantity_expected=4)]
        )
    )
    url = reverse("admin:stock_inboundshipment_receive", args=[shipment.pk])
    assert staff_client.get(url).status_code == 200
    over = staff_client.post(url, {"lines": "phone-x-red 3\nPHONE-X-RED 2 damaged"})
    assert over.status_code == 200 and "Nothing received" in over.content.decode()
    assert not StockMovement.objects.filter(inbound=shipment).exists()
    unknown = staff_client.post(url, {"lines": "NO-SUCH 1"})
    assert "no active SKU with code NO-SUCH" in unknown.content.decode()
    done = staff_client.post(
        url, {"lines": "PHONE-X-RED\nPHONE-X-RED 2\nPHONE-X-RED 2 damaged", "allow_over_receipt": "on"}
    )
    assert done.status_code == 302
    shipment.refresh_from_db()
    assert shipment.status == InboundStatus.RECEIVED
    level = StockLevel.objects.get(sku=red, warehouse=main_warehouse)
    assert (level.on_hand, level.damaged, level.incoming) == (17, 2, 0)


def test_receive_needs_its_permission(client, red, main_warehouse):
    from tests.factories import UserFactory

    clerk = UserFactory(username="viewer", is_staff=True)
    client.force_login(clerk)
    shipment = inbound_create(
        reference="PO-77", warehouse=main_warehouse, lines=[InboundLineInput(sku=red, quantity_expected=4)]
    )
    assert client.get(reverse("admin:stock_inboundshipment_receive", args=[shipment.pk])).status_code == 403


def test_reorder_screen_makes_a_draft(staff_client, red, main_warehouse):
    StockLevel.objects.filter(sku=red, warehouse=main_warehouse).update(reorder_point=20)
    url = reverse("admin:stock_inboundshipment_reorder")
    shown = staff_client.get(url)
    assert "PHONE-X-RED" in shown.content.decode()
    level = StockLevel.objects.get(sku=red, warehouse=main_warehouse)
    made = staff_client.post(url, {"supplier": "Acme", "warehouse": main_warehouse.pk, "level": [level.pk]})
    assert made.status_code == 302
    draft = InboundShipment.objects.get()
    assert draft.lines.get().quantity_expected == 28  # 12 available -> twice 20
    refused = staff_client.post(url, {"supplier": "Acme", "warehouse": main_warehouse.pk, "level": ["999999"]})
    assert "No draft made" in refused.content.decode()


def test_backordered_reservations_are_shown_and_filtered(staff_client, red, main_warehouse):
    red.backorder_policy = "allow_incoming"
    red.save()
    inbound_open(
        shipment=inbound_create(
            reference="PO-77", warehouse=main_warehouse, lines=[InboundLineInput(sku=red, quantity_expected=10)]
        )
    )
    reservation_create(reference="PLAIN-1", lines=[ReservationRequestLine(sku=red, quantity=1)])
    reservation_create(reference="WAITING-1", lines=[ReservationRequestLine(sku=red, quantity=15)])  # 11 + 4 waiting
    url = reverse("admin:stock_reservation_changelist")
    page = staff_client.get(url + "?backordered=yes").content.decode()
    assert "WAITING-1" in page and "PLAIN-1" not in page
    assert 'PHONE-X-RED @ MAIN</span> <span class="quiet">(4 waiting)</span>' in page
    page = staff_client.get(url + "?backordered=no").content.decode()
    assert "PLAIN-1" in page and "WAITING-1" not in page
