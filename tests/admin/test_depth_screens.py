"""The stock-depth screens (state moves, inbound shipments and their receive screen, reorder
suggestions, the ledger of states) in words: no dicts, no status values, no ids; a 403 that
names the permission; row buttons only for what the user may do."""

import re

import pytest
from django.urls import reverse

from stock.models import StockLevel
from stock.services import (
    InboundLineInput,
    ReceiptLine,
    inbound_cancel,
    inbound_create,
    inbound_open,
    inbound_receive,
    stock_receive,
    stock_state_move,
)
from stock.services.warehouses import warehouse_create
from tests.admin.conftest import text_of
from tests.conftest import grant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
# A Python dict or list in the page, an internal status value, an "id@id" pair.
INTERNAL = re.compile(r"\{'|\['|partially_received|quality_control|level ids|\d+@\d+")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def red(catalog):
    return catalog["red"]


@pytest.fixture
def shipment(red, main_warehouse):
    return inbound_open(
        shipment=inbound_create(
            reference="PO-77",
            supplier="Acme",
            warehouse=main_warehouse,
            lines=[InboundLineInput(sku=red, quantity_expected=4)],
        )
    )


def receive(client, shipment, lines, **extra):
    return client.post(reverse("admin:stock_inboundshipment_receive", args=[shipment.pk]), {"lines": lines, **extra})


class TestReceiveScreenWords:
    def test_a_sku_not_on_the_shipment_is_named_with_the_rule(self, staff_client, shipment):
        page = text_of(receive(staff_client, shipment, "PHONE-X-BLUE 1"))
        assert "Nothing received: PHONE-X-BLUE: This SKU is not on the shipment." in page
        assert not INTERNAL.search(page)

    def test_over_receipt_says_which_box_to_tick(self, staff_client, shipment):
        page = text_of(receive(staff_client, shipment, "PHONE-X-RED 3\nPHONE-X-RED 2"))
        assert (
            'Nothing received: More than the shipment expects (tick "Accept more than expected" to take it). '
            "PHONE-X-RED: 5 more would pass the 4 expected (0 received)."
        ) in page
        assert "allow_over_receipt" not in page and not INTERNAL.search(page)

    def test_a_draft_cannot_be_received_and_says_so(self, staff_client, red, main_warehouse):
        draft = inbound_create(
            reference="PO-78", warehouse=main_warehouse, lines=[InboundLineInput(sku=red, quantity_expected=1)]
        )
        page = text_of(receive(staff_client, draft, "PHONE-X-RED"))
        assert "Nothing received: A draft shipment cannot be received." in page
        assert "allowed" not in page and not INTERNAL.search(page)

    def test_a_state_is_typed_as_a_word_and_a_wrong_one_is_named(self, staff_client, shipment, red):
        page = text_of(receive(staff_client, shipment, "PHONE-X-RED 1 broken"))
        assert "Line 1: 'broken' is not a state; write damaged, qc (quality control) or sellable." in page
        assert receive(staff_client, shipment, "PHONE-X-RED 1 qc\nPHONE-X-RED 1 damaged").status_code == 302
        level = StockLevel.objects.get(sku=red, warehouse=shipment.warehouse)
        assert (level.quality_control, level.damaged) == (1, 1)

    def test_success_names_the_warehouse_and_the_status_in_words(self, staff_client, shipment):
        response = staff_client.post(
            reverse("admin:stock_inboundshipment_receive", args=[shipment.pk]), {"lines": "PHONE-X-RED 2"}, follow=True
        )
        assert "Received 2 units into Main warehouse; PO-77 is now partially received." in messages_of(response)
        page = text_of(response)  # the shipment's page: its title and breadcrumbs
        assert "PO-77 (partially received)" in page and not INTERNAL.search(page)


class TestInboundActionsWords:
    def test_a_refused_cancel_reads_as_a_sentence(self, staff_client, shipment):
        inbound_cancel(shipment=shipment)
        response = staff_client.post(
            reverse("admin:stock_inboundshipment_changelist"),
            {"action": "cancel_selected", "_selected_action": [shipment.pk]},
            follow=True,
        )
        assert "Not cancelled: PO-77 (cancelled): A cancelled shipment cannot be cancelled." in messages_of(response)
        assert not any(INTERNAL.search(m) or "allowed" in m for m in messages_of(response))

    def test_opening_an_open_shipment_says_why(self, staff_client, red, main_warehouse):
        draft = inbound_create(
            reference="PO-79", warehouse=main_warehouse, lines=[InboundLineInput(sku=red, quantity_expected=1)]
        )
        inbound_open(shipment=draft)
        response = staff_client.post(
            reverse("admin:stock_inboundshipment_changelist"),
            {"action": "open_selected", "_selected_action": [draft.pk]},
            follow=True,
        )
        assert "Not opened: PO-79 (open): An open shipment cannot be opened." in messages_of(response)


class TestReorderWords:
    def test_a_ticked_level_of_another_warehouse_is_named_not_numbered(self, staff_client, red, main_warehouse):
        east = warehouse_create(code="EAST", name="East depot")
        stock_receive(sku=red, quantity=1, warehouse=east, reference="PO-E")
        StockLevel.objects.filter(sku=red).update(reorder_point=20)
        east_level = StockLevel.objects.get(sku=red, warehouse=east)
        url = reverse("admin:stock_inboundshipment_reorder")
        page = text_of(
            staff_client.post(url, {"supplier": "Acme", "warehouse": main_warehouse.pk, "level": [east_level.pk]})
        )
        assert (
            "No draft made: PHONE-X-RED at East depot is not a reorder suggestion for Main warehouse. "
            "Tick the suggestions of one warehouse (or none: all of it)."
        ) in page
        assert str(east_level.pk) not in page.split("No draft made", 1)[1].split(".", 1)[0]
        gone = text_of(
            staff_client.post(url, {"supplier": "Acme", "warehouse": main_warehouse.pk, "level": ["999999"]})
        )
        assert "No draft made: A ticked line is no longer a reorder suggestion; reload the page and tick again." in gone
        assert "999999" not in gone

    def test_nothing_to_reorder_is_the_rule_s_own_sentence(self, staff_client, red, main_warehouse):
        page = text_of(
            staff_client.post(
                reverse("admin:stock_inboundshipment_reorder"), {"supplier": "Acme", "warehouse": main_warehouse.pk}
            )
        )
        assert "No draft made: Warehouse MAIN has nothing to reorder." in page
        assert "Invalid input" not in page and not INTERNAL.search(page)


class TestStateMoveWords:
    def post(self, client, red, main_warehouse, **fields):
        return client.post(
            reverse("admin:stock_stocklevel_state_move"),
            {"sku_code": red.sku_code, "warehouse": main_warehouse.pk, "quantity": 1, "reason": "correction", **fields},
        )

    def test_too_few_in_the_state_is_a_sentence(self, staff_client, red, main_warehouse):
        page = text_of(self.post(staff_client, red, main_warehouse, from_state="damaged", to_state="sellable"))
        assert "Not moved (PHONE-X-RED at Main warehouse): only 0 units are damaged (1 requested)." in page
        page = text_of(
            self.post(staff_client, red, main_warehouse, from_state="quality_control", to_state="sellable", quantity=3)
        )
        assert "only 0 units are in quality control (3 requested)." in page
        assert "in state" not in page and not INTERNAL.search(page.split("Not moved", 1)[1])

    def test_the_same_state_twice_says_what_to_do(self, staff_client, red, main_warehouse):
        page = text_of(self.post(staff_client, red, main_warehouse, from_state="damaged", to_state="damaged"))
        assert "Choose a state other than the one the units leave." in page
        assert "Must differ from from" not in page


class TestLedgerOfStates:
    def test_state_moves_and_receipts_into_a_state_read_in_words(self, staff_client, red, main_warehouse, shipment):
        stock_state_move(
            sku=red,
            warehouse=main_warehouse,
            quantity=2,
            from_state="sellable",
            to_state="quality_control",
            reason="inspection",
            reference="QC-1",
        )
        inbound_receive(shipment=shipment, lines=[ReceiptLine(sku=red, quantity=1, state="damaged")])
        page = text_of(staff_client.get(reverse("admin:stock_stockmovement_changelist")))
        assert "2 sellable → quality control on hand 12" in page
        assert "+1 → 13 into damaged" in page
        assert "PO-77 inbound PO-77" in page
        assert "+0" not in page
        move = red.movements.get(reference="QC-1")
        detail = text_of(staff_client.get(reverse("admin:stock_stockmovement_change", args=[move.pk])))
        assert "Inspection 2 sellable → quality control (QC-1)" in detail  # the title
        assert not INTERNAL.search(detail.replace("quality control", ""))


class TestPermissionPages:
    @pytest.mark.parametrize(
        "url_name, args, permission",
        [
            (
                "admin:stock_inboundshipment_receive",
                True,
                "Can receive inbound shipments (stock.receive_inboundshipment)",
            ),
            ("admin:stock_inboundshipment_reorder", False, "Can add inbound shipment (stock.add_inboundshipment)"),
            (
                "admin:stock_stocklevel_state_move",
                False,
                "Can move stock between states (damaged, quality control) (stock.move_stock_state)",
            ),
        ],
    )
    def test_each_names_the_missing_permission(self, client, shipment, url_name, args, permission):
        viewer = grant(UserFactory(is_staff=True), "stock.view_stocklevel", "stock.view_inboundshipment")
        client.force_login(viewer)
        response = client.get(reverse(url_name, args=[shipment.pk] if args else []))
        assert response.status_code == 403
        page = text_of(response)
        assert f"It needs the permission {permission}" in page
        assert "Inventory" in page  # the admin's header: the styled page


class TestLevelRowButtons:
    def buttons(self, client):
        page = client.get(reverse("admin:stock_stocklevel_changelist")).content.decode()
        return (
            'class="button" href="/admin/stock/stocklevel/' in page and ">Adjust</a>" in page,
            ">Move state</a>" in page,
        )

    def test_only_the_buttons_the_user_may_use(self, client, catalog):
        user = grant(UserFactory(is_staff=True), "stock.view_stocklevel")
        client.force_login(user)
        assert self.buttons(client) == (False, False)
        grant(user, "stock.adjust_stock")
        assert self.buttons(client) == (True, False)
        grant(user, "stock.move_stock_state")
        assert self.buttons(client) == (True, True)

    def test_the_inbound_list_reads_in_words(self, staff_client, shipment, red):
        inbound_receive(shipment=shipment, lines=[ReceiptLine(sku=red, quantity=1)])
        page = text_of(staff_client.get(reverse("admin:stock_inboundshipment_changelist")))
        assert "Partially received" in page and "PHONE-X-RED 1/4" in page and "Receive" in page
        assert not INTERNAL.search(page)


def test_the_inbound_list_leads_to_the_reorder_suggestions(client, staff_client, catalog):
    url = reverse("admin:stock_inboundshipment_changelist")
    reorder = reverse("admin:stock_inboundshipment_reorder")
    assert reorder in staff_client.get(url).content.decode()
    viewer = grant(UserFactory(is_staff=True), "stock.view_inboundshipment")
    client.force_login(viewer)
    assert reorder not in client.get(url).content.decode()


def test_an_open_shipment_s_page_has_a_receive_button(client, staff_client, shipment, red, main_warehouse):
    receive_url = reverse("admin:stock_inboundshipment_receive", args=[shipment.pk])
    page = staff_client.get(reverse("admin:stock_inboundshipment_change", args=[shipment.pk])).content.decode()
    assert f'href="{receive_url}" class="receive-link"' in page
    draft = inbound_create(
        reference="PO-80", warehouse=main_warehouse, lines=[InboundLineInput(sku=red, quantity_expected=1)]
    )
    page = staff_client.get(reverse("admin:stock_inboundshipment_change", args=[draft.pk])).content.decode()
    assert "receive-link" not in page
    viewer = grant(UserFactory(is_staff=True), "stock.view_inboundshipment")
    client.force_login(viewer)
    page = client.get(reverse("admin:stock_inboundshipment_change", args=[shipment.pk])).content.decode()
    assert "receive-link" not in page
