"""The back office's second pass (issue 22) in a real browser at 1,280 px, on the demo catalog:
lists that fit, the write-off, the dashboard's links, a phone order, receiving line by line,
level settings in bulk, the soft delete's question and the 403 page. One screenshot each."""

import re

import pytest
from django.core.management import call_command

from tests.browser.conftest import PASSWORD, login, screenshot
from tests.stock.conftest import stored_level

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]
WIDTH = 1280


@pytest.fixture
def demo(admin_user):
    call_command("load_demo_data", skus=120, seed=3, verbosity=0)


@pytest.fixture
def page(chromium, live_server, admin_user, demo):
    context = chromium.new_context(viewport={"width": WIDTH, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(15000)
    page = context.new_page()
    login(page)
    yield page
    context.close()


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def one_line_rows(page) -> bool:
    """Every row of the change list is one line of text high (no wrapped cell)."""
    heights = page.evaluate("""() => Array.from(document.querySelectorAll('#result_list > tbody > tr'))
        .map(row => row.getBoundingClientRect().height)""")
    return bool(heights) and max(heights) <= 2 * min(heights) and max(heights) < 60


@pytest.mark.parametrize(
    ("url", "name", "one_line"),
    [
        ("/admin/catalog/category/?parent=all", "26-categories-list", True),
        ("/admin/catalog/product/", "27-products-list", True),
        ("/admin/stock/stocklevel/", "28-stock-levels-list", False),  # code over product name, by design
        ("/admin/catalog/sku/", None, False),
    ],
)
def test_lists_fit_1280_px(page, url, name, one_line):
    page.goto(url)
    page.wait_for_selector("#result_list")
    if name:
        screenshot(page, name, full_page=False)
    assert fits(page), page.evaluate("document.documentElement.scrollWidth")
    right = page.evaluate("document.getElementById('result_list').getBoundingClientRect().right")
    assert right <= WIDTH
    clipped = page.evaluate(
        "(() => { const box = document.querySelector('#changelist .results'); "
        "return box.scrollWidth - box.clientWidth; })()"
    )
    assert clipped <= 0, (
        clipped,
        page.evaluate(
            """() => Array.from(document.querySelectorAll("#result_list > tbody > tr"))
                .map(r => [Math.round(r.scrollWidth), r.innerText.replace(/\\s+/g, " ")])
                .sort((a, b) => b[0] - a[0]).slice(0, 2)"""
        ),
    )  # no column cut off
    if one_line:
        assert one_line_rows(page), page.evaluate(
            """() => Array.from(document.querySelectorAll("#result_list > tbody > tr"))
                .map(r => Math.round(r.getBoundingClientRect().height))"""
        )


def test_the_levels_list_leads_with_the_clerks_figures(page):
    page.goto("/admin/stock/stocklevel/")
    headers = [h.strip().lower() for h in page.locator("#result_list thead th").all_inner_texts() if h.strip()]
    assert headers[:5] == ["sku / product", "warehouse", "on hand", "available", "reserved"]


def test_write_off_damaged_units_from_the_state_move_hint(page):
    from stock.models import StockLevel
    from stock.services import stock_state_move

    level = (
        StockLevel.objects.filter(on_hand__gte=10, reserved=0).select_related("sku", "warehouse").order_by("pk").first()
    )
    stock_state_move(
        sku=level.sku, warehouse=level.warehouse, quantity=3, from_state="sellable", to_state="damaged", reason="damage"
    )
    level = stored_level(pk=level.pk)
    on_hand, available = level.on_hand, level.available
    page.goto(f"/admin/stock/stocklevel/{level.pk}/state-move/")
    page.click("#write-off-hint a")
    assert page.locator("#id_from_state").input_value() == "damaged"
    page.fill("#id_amount", "-3")
    page.select_option("#id_reason", "damage")
    screenshot(page, "29-write-off-damaged")
    page.click("input[name=_adjust]")
    page.wait_for_selector("ul.messagelist li.success")
    assert "Wrote off 3 damaged units" in page.inner_text("ul.messagelist")
    level = stored_level(pk=level.pk)
    assert (level.on_hand, level.damaged, level.available) == (on_hand - 3, 0, available)


def test_every_dashboard_number_opens_its_rows(page):
    page.goto("/admin/")
    links = page.locator("#stock-dashboard a.dash-count")
    targets = [
        (links.nth(i).get_attribute("href"), int(re.sub(r"\D", "", links.nth(i).inner_text())))
        for i in range(links.count())
    ]
    screenshot(page, "30-dashboard-links", full_page=False)
    for href, number in targets:
        page.goto(href)
        shown = page.locator("#result_list tbody tr").count() if page.locator("#result_list").count() else 0
        assert shown == min(number, 100), href  # a page holds 100 rows


def test_a_phone_order_then_commit(page):
    from stock.models import Reservation, StockLevel

    level = StockLevel.objects.filter(on_hand__gte=5, reserved=0).select_related("sku").order_by("pk").first()
    page.goto("/admin/stock/reservation/")
    page.click("text=New reservation (phone order)")
    page.fill("#id_reference", "PHONE-4711")
    page.fill("#id_sku_0", level.sku.sku_code)
    page.fill("#id_quantity_0", "2")
    screenshot(page, "31-phone-order")
    page.click("input[name=_reserve]")
    page.wait_for_selector("ul.messagelist li.success")
    page.click("button.commit-reservation")
    page.wait_for_selector("ul.messagelist li.success")
    assert "Committed PHONE-4711." in page.inner_text("ul.messagelist")
    assert Reservation.objects.get(reference="PHONE-4711").status == "committed"


def test_open_a_draft_and_receive_it_line_by_line(page):
    from catalog.models import SKU
    from stock.models import InboundShipment, Warehouse
    from stock.services import InboundLineInput, inbound_create

    skus = list(SKU.objects.order_by("pk")[:3])
    draft = inbound_create(
        reference="PO-LINES",
        supplier="Acme",
        warehouse=Warehouse.objects.get(code="MAIN"),
        lines=[InboundLineInput(sku=sku, quantity_expected=12) for sku in skus],
    )
    page.goto(f"/admin/stock/inboundshipment/{draft.pk}/change/")
    page.click("button.open-shipment")
    page.wait_for_selector("ul.messagelist li.success")
    page.click("a.receive-link")
    inputs = page.locator("#expected-lines input.receive-quantity")
    assert inputs.count() == 3
    inputs.nth(0).fill("12")
    inputs.nth(1).fill("5")
    page.locator("#expected-lines select").nth(1).select_option("damaged")
    screenshot(page, "32-receive-line-by-line")
    page.click("input[name=_receive]")
    page.wait_for_selector("ul.messagelist li.success")
    assert InboundShipment.objects.get(pk=draft.pk).status == "partially_received"


def test_level_settings_in_bulk(page):
    from stock.models import StockLevel

    page.goto("/admin/stock/stocklevel/")
    boxes = page.locator("#result_list tbody input.action-select")
    for index in range(3):
        boxes.nth(index).check()
    page.select_option("select[name=action]", "set_level_settings")
    page.click("button[name=index]")
    page.fill("#id_reorder_point", "12")
    page.fill("#id_reorder_quantity", "60")
    screenshot(page, "33-level-settings-bulk")
    page.click("input[name=_apply]")
    page.wait_for_selector("ul.messagelist li.success")
    assert StockLevel.objects.filter(reorder_point=12, reorder_quantity=60).count() >= 3


def test_the_reorder_screen_has_suggestions_on_the_demo(page):
    page.goto("/admin/stock/inboundshipment/reorder/")
    assert page.locator("input[name=level]").count() >= 1
    screenshot(page, "23-reorder-suggestions", full_page=False)


def test_a_soft_delete_asks_first(page):
    from catalog.models import SKU

    page.goto("/admin/catalog/sku/")
    page.locator("#result_list tbody input.action-select").first.check()
    page.select_option("select[name=action]", "soft_delete_selected")
    page.click("button[name=index]")
    page.wait_for_selector("text=Yes, delete them")
    screenshot(page, "34-soft-delete-confirmation")
    before = SKU.objects.count()
    page.click("text=Yes, delete them")
    page.wait_for_selector("ul.messagelist li.success")
    assert SKU.objects.count() == before - 1


def test_the_403_page_says_who_can_grant_it(chromium, live_server, demo):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command as command

    from tests.conftest import grant

    command("setup_roles", verbosity=0)
    clerk = get_user_model().objects.create_user("pat", "pat@example.com", PASSWORD, is_staff=True)
    grant(clerk, "stock.view_stocklevel")
    context = chromium.new_context(viewport={"width": WIDTH, "height": 700}, base_url=live_server.url)
    page = context.new_page()
    login(page, "pat")
    page.goto("/admin/stock/stocklevel/adjust/")
    text = page.inner_text("#content-main")
    assert "Can adjust stock" in text and "Stock clerk" in text and "admin" in text
    screenshot(page, "17-permission-denied", full_page=False)
    context.close()
