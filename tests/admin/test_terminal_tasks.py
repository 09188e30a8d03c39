"""Issue 22, what needed a terminal or the API: each is an admin task now."""

import pytest
from django.urls import reverse

from catalog.models import SKU
from stock.models import StockLevel
from tests.admin.conftest import text_of

pytestmark = pytest.mark.django_db


def sku_page_post(sku, **changes) -> dict:
    import json

    data = {
        "sku_code": sku.sku_code,
        "product": sku.product_id,
        "price": str(sku.price),
        "attributes": json.dumps(sku.attributes),
        "initial-attributes": json.dumps(sku.attributes),
        "backorder_policy": sku.backorder_policy,
        "expected_version": sku.version,
    }
    return {**data, **changes}


def test_the_sku_page_sets_the_backorder_policy_and_keeps_it(staff_client, catalog):
    red = catalog["red"]
    url = reverse("admin:catalog_sku_change", args=[red.pk])
    assert 'name="backorder_policy"' in staff_client.get(url).content.decode()
    assert staff_client.post(url, sku_page_post(red, backorder_policy="allow_incoming")).status_code == 302
    red.refresh_from_db()
    assert red.backorder_policy == "allow_incoming"
    assert staff_client.post(url, sku_page_post(red, price="450.00")).status_code == 302  # a later edit keeps it
    red.refresh_from_db()
    assert (red.backorder_policy, str(red.price)) == ("allow_incoming", "450.00")


def test_the_sku_list_sets_the_backorder_policy_in_bulk(staff_client, catalog):
    skus = [catalog["red"].pk, catalog["blue"].pk]
    response = staff_client.post(
        reverse("admin:catalog_sku_changelist"), {"action": "allow_backorders", "_selected_action": skus}, follow=True
    )
    assert "Updated the backorder policy of 2 SKUs." in text_of(response)
    assert set(SKU.objects.filter(pk__in=skus).values_list("backorder_policy", flat=True)) == {"allow_incoming"}
    staff_client.post(
        reverse("admin:catalog_sku_changelist"), {"action": "deny_backorders", "_selected_action": skus[:1]}
    )
    assert SKU.objects.get(pk=skus[0]).backorder_policy == "deny"


def test_the_levels_list_sets_thresholds_and_reorder_settings_in_bulk(staff_client, catalog):
    levels = list(StockLevel.objects.filter(sku__in=[catalog["red"], catalog["blue"]]).order_by("pk"))
    url = reverse("admin:stock_stocklevel_changelist")
    ticked = {"action": "set_level_settings", "_selected_action": [lvl.pk for lvl in levels]}
    form = staff_client.post(url, ticked)
    assert form.status_code == 200 and "2 stock levels selected" in text_of(form)
    empty = staff_client.post(url, {**ticked, "_apply": "1"})
    assert "Fill in at least one setting." in text_of(empty)
    done = staff_client.post(
        url,
        {**ticked, "_apply": "1", "reorder_point": "4", "reorder_quantity": "1200", "low_stock_threshold": ""},
        follow=True,
    )
    assert "Set reorder point 4, reorder quantity 1,200 on 2 stock levels." in text_of(done)
    thresholds = [lvl.low_stock_threshold for lvl in levels]
    for level, threshold in zip(levels, thresholds, strict=True):
        level.refresh_from_db()
        assert (level.reorder_point, level.reorder_quantity, level.low_stock_threshold) == (4, 1200, threshold)


def test_a_phone_order_is_reserved_then_committed_from_its_page(staff_client, catalog, main_warehouse):
    from stock.models import Reservation

    url = reverse("admin:stock_reservation_phone_order")
    assert "New reservation (phone order)" in text_of(staff_client.get(reverse("admin:stock_reservation_changelist")))
    short = staff_client.post(
        url,
        {
            "reference": "PHONE-1",
            "hold_minutes": 30,
            "sku_0": "phone-x-red",
            "quantity_0": 2,
            "sku_1": "PHONE-X-BLUE",
            "quantity_1": 5,
        },
    )
    assert "Nothing reserved: Not enough stock available (PHONE-X-BLUE: 1 available, 5 requested)." in text_of(short)
    assert not Reservation.objects.exists()
    done = staff_client.post(
        url,
        {
            "reference": "PHONE-1",
            "hold_minutes": 30,
            "sku_0": "phone-x-red",
            "quantity_0": 2,
            "warehouse_0": main_warehouse.pk,
        },
        follow=True,
    )
    reservation = Reservation.objects.get(reference="PHONE-1")
    page = text_of(done)
    assert "Reserved 2 units for PHONE-1" in page and "Commit (the goods left)" in page
    assert StockLevel.objects.get(sku=catalog["red"]).reserved == 2
    committed = staff_client.post(reverse("admin:stock_reservation_commit", args=[reservation.pk]), follow=True)
    assert "Committed PHONE-1." in text_of(committed)
    level = StockLevel.objects.get(sku=catalog["red"])
    assert (level.on_hand, level.reserved) == (10, 0)
    again = staff_client.post(reverse("admin:stock_reservation_release", args=[reservation.pk]), follow=True)
    assert "Not released:" in text_of(again)


def test_a_reservation_is_released_from_its_page(staff_client, catalog):
    from stock.services import ReservationRequestLine, reservation_create

    reservation = reservation_create(
        reference="PHONE-2", lines=[ReservationRequestLine(sku=catalog["red"], quantity=3)]
    )
    page = text_of(staff_client.get(reverse("admin:stock_reservation_change", args=[reservation.pk])))
    assert "Release (give the units back)" in page
    staff_client.post(reverse("admin:stock_reservation_release", args=[reservation.pk]))
    assert StockLevel.objects.get(sku=catalog["red"]).reserved == 0


def test_a_draft_is_opened_from_its_page_and_received_line_by_line(staff_client, catalog, main_warehouse):
    from stock.models import InboundShipment, StockMovement
    from stock.services import InboundLineInput, inbound_create

    red, blue = catalog["red"], catalog["blue"]
    draft = inbound_create(
        reference="PO-9",
        supplier="Acme",
        warehouse=main_warehouse,
        lines=[InboundLineInput(sku=red, quantity_expected=10), InboundLineInput(sku=blue, quantity_expected=4)],
    )
    page = text_of(staff_client.get(reverse("admin:stock_inboundshipment_change", args=[draft.pk])))
    assert "Open (count as incoming)" in page
    opened = staff_client.post(reverse("admin:stock_inboundshipment_open", args=[draft.pk]), follow=True)
    assert "Opened PO-9: its lines count as incoming stock." in text_of(opened)
    assert StockLevel.objects.get(sku=red).incoming == 10
    receive = reverse("admin:stock_inboundshipment_receive", args=[draft.pk])
    form = staff_client.get(receive)
    lines = {line.sku.sku_code: line for line, _quantity, _state in form.context["form"].rows()}
    assert set(lines) == {"PHONE-X-BLUE", "PHONE-X-RED"}
    red_line, blue_line = lines["PHONE-X-RED"], lines["PHONE-X-BLUE"]
    nothing = staff_client.post(receive, {f"received_{red_line.pk}": "", f"received_{blue_line.pk}": ""})
    assert "Fill in a quantity received" in text_of(nothing)
    done = staff_client.post(
        receive,
        {
            f"received_{red_line.pk}": "6",
            f"state_{red_line.pk}": "sellable",
            f"received_{blue_line.pk}": "2",
            f"state_{blue_line.pk}": "damaged",
        },
        follow=True,
    )
    assert "Received 8 units into Main warehouse; PO-9 is now partially received." in text_of(done)
    red_level, blue_level = StockLevel.objects.get(sku=red), StockLevel.objects.get(sku=blue)
    assert (red_level.on_hand, red_level.incoming) == (18, 4)
    assert (blue_level.on_hand, blue_level.damaged, blue_level.incoming) == (3, 2, 2)
    assert StockMovement.objects.filter(inbound=InboundShipment.objects.get(pk=draft.pk)).count() == 2


def test_level_settings_upload_previews_then_applies_all_or_nothing(staff_client, catalog, main_warehouse):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("admin:stock_stocklevel_upload")
    sheet = b"sku_code,low_stock_threshold,reorder_point,reorder_quantity\nphone-x-red,5,4,100\nPHONE-X-BLUE,,2,\n"
    preview = staff_client.post(url, {"kind": "settings", "sheet": SimpleUploadedFile("s.csv", sheet)})
    page = text_of(preview)
    assert "Preview: nothing is changed until you confirm" in page
    assert "reorder point – → 4" in page and "reorder quantity – → 100" in page
    red = StockLevel.objects.get(sku=catalog["red"])
    assert red.reorder_point is None  # the preview wrote nothing
    done = staff_client.post(
        url,
        {"kind": "settings", "sheet_token": preview.context["preview"]["sheet_token"], "_confirm": "1"},
        follow=True,
    )
    assert done.status_code == 200
    red.refresh_from_db()
    blue = StockLevel.objects.get(sku=catalog["blue"])
    assert (red.low_stock_threshold, red.reorder_point, red.reorder_quantity) == (5, 4, 100)
    assert blue.reorder_point == 2
    bad = b"sku_code,reorder_point,reorder_quantity\nPHONE-X-RED,1,0\nNOPE,1,\nPHONE-X-BLUE,x,\n"
    refused = text_of(staff_client.post(url, {"kind": "settings", "sheet": SimpleUploadedFile("s.csv", bad)}))
    refused = refused.replace(" :", ":")
    assert "3 invalid line(s); nothing was changed." in refused
    assert "line 2" in refused and "line 3: no stock level of NOPE" in refused
    assert "line 4: reorder point 'x' is not a whole number" in refused
    red.refresh_from_db()
    assert (red.reorder_point, red.reorder_quantity) == (4, 100)


def test_the_demo_data_gives_the_reorder_screen_suggestions(staff_client, main_warehouse):
    from django.core.management import call_command

    from stock.selectors_reorder import reorder_suggestions

    call_command("load_demo_data", skus=200, seed=1, verbosity=0)
    assert StockLevel.objects.filter(reorder_point__isnull=False).exists()
    assert reorder_suggestions().exists()
    page = staff_client.get(reverse("admin:stock_inboundshipment_reorder"))
    assert len(page.context["suggestions"]) >= 1
