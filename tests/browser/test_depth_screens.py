"""The stock-depth screens at 1,280 px in a real browser: every state on the level list, a state
move from a level's page, receiving an inbound shipment by typing codes, reorder suggestions
made into a draft, and the ledger naming the states."""

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_backoffice import fits, last_column_right

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def sellable_level(min_units=5):
    from stock.models import StockLevel

    return (
        StockLevel.objects.filter(
            warehouse__code="MAIN", on_hand__gte=min_units, reserved=0, damaged=0, quality_control=0
        )
        .select_related("sku", "warehouse")
        .order_by("pk")
        .first()
    )


def test_level_list_leads_with_the_clerks_figures_and_fits_1280(page):
    page.goto("/admin/stock/stocklevel/")
    page.wait_for_selector("#result_list")
    headers = page.inner_text("#result_list thead").lower()
    for figure in ("on hand", "available", "reserved", "incoming"):
        assert figure in headers  # every other state is on the level's page
    assert page.locator("#result_list tbody tr").first.locator("a.button:has-text('Adjust')").count() == 1
    screenshot(page, "08-stock-levels", full_page=False)
    assert fits(page) and last_column_right(page) <= 0.5


def test_state_move_from_the_level_page_then_the_ledger(page):
    level = sellable_level()
    code = level.sku.sku_code
    page.goto(f"/admin/stock/stocklevel/{level.pk}/change/")
    page.click("a.state-move-level")
    page.wait_for_selector("#state-move-form")
    assert page.input_value("#id_sku_code") == code
    page.fill("#id_quantity", "2")
    page.select_option("#id_from_state", "sellable")
    page.select_option("#id_to_state", "damaged")
    page.select_option("#id_reason", "damage")
    page.fill("#id_reference", "DMG-BROWSER")
    assert fits(page)
    screenshot(page, "21-state-move")
    page.click("input[name=_move]")
    message = page.inner_text("ul.messagelist li.success")
    assert f"Moved 2 × {code} at Main warehouse from sellable to damaged (Damage, DMG-BROWSER)" in message
    assert "{" not in message
    level.refresh_from_db()
    assert level.damaged == 2

    page.goto("/admin/stock/stockmovement/?q=DMG-BROWSER")
    row = page.locator("#result_list tbody tr").first.inner_text()
    assert "2 sellable → damaged" in row and "+0" not in row
    assert fits(page) and last_column_right(page) <= 0.5


def test_receive_an_inbound_shipment_by_typing_codes(page):
    from stock.models import InboundStatus, StockLevel, Warehouse
    from stock.services import InboundLineInput, inbound_create, inbound_open

    level = sellable_level()
    sku = level.sku
    before = level.on_hand
    shipment = inbound_open(
        shipment=inbound_create(
            reference="PO-BROWSER",
            supplier="Acme Textiles",
            warehouse=Warehouse.objects.get(code="MAIN"),
            lines=[InboundLineInput(sku=sku, quantity_expected=10)],
        )
    )
    page.goto("/admin/stock/inboundshipment/")
    page.wait_for_selector("#result_list")
    assert f"{sku.sku_code} 0/10" in page.inner_text("#result_list")
    assert fits(page) and last_column_right(page) <= 0.5
    assert page.locator("#result_list a:has-text('Receive')").count() == 1
    page.click("#result_list a:has-text('PO-BROWSER')")  # the shipment's page: lines read-only once open
    page.wait_for_selector("a.receive-link")
    assert fits(page)
    page.click("a.receive-link")
    page.wait_for_selector("#receive-form")
    page.fill("#id_lines", f"{sku.sku_code} 12")
    page.click("input[name=_receive]")
    error = page.inner_text("#receive-form .errornote")
    assert f"{sku.sku_code}: 12 more would pass the 10 expected (0 received)" in error
    assert 'tick "Accept more than expected"' in error and "{" not in error
    page.fill("#id_lines", f"{sku.sku_code} 6\n{sku.sku_code}\n{sku.sku_code} 1 damaged")
    assert fits(page)
    screenshot(page, "22-inbound-receive")
    page.click("input[name=_receive]")
    message = page.inner_text("ul.messagelist li.success")
    assert "Received 8 units into Main warehouse; PO-BROWSER is now partially received." in message
    shipment.refresh_from_db()
    assert shipment.status == InboundStatus.PARTIALLY_RECEIVED
    level = StockLevel.objects.get(pk=level.pk)
    assert (level.on_hand, level.damaged, level.incoming) == (before + 8, 1, 2)


def test_reorder_suggestions_become_a_draft(page):
    from stock.models import InboundShipment, StockLevel

    levels = list(StockLevel.objects.filter(warehouse__code="MAIN").order_by("on_hand", "pk")[:3])
    StockLevel.objects.filter(pk__in=[lvl.pk for lvl in levels]).update(reorder_point=200)
    page.goto("/admin/stock/inboundshipment/")
    page.click("a.reorder-link")
    page.wait_for_selector("#suggestions")
    for lvl in levels:
        assert lvl.sku.sku_code in page.inner_text("#suggestions")
    page.check(f"#suggestions input[value='{levels[0].pk}']")
    page.fill("#id_supplier", "Acme Textiles")
    page.select_option("#id_warehouse", label="MAIN")
    assert fits(page)
    screenshot(page, "23-reorder-suggestions", full_page=False)
    page.click("input[name=_create]")
    message = page.inner_text("ul.messagelist li.success")
    assert "made; check it, then open it." in message
    draft = InboundShipment.objects.get(supplier="Acme Textiles")
    assert [line.sku_id for line in draft.lines.all()] == [levels[0].sku_id]
    assert draft.reference in page.inner_text("#content")
