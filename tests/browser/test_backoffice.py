"""The back office at 1,280 px in a real browser: dashboard and charts, stock by warehouse,
the clerk's transfer and count upload, readable ledger and reservations, the 403 page."""

import pytest

from tests.browser.conftest import PASSWORD, WIDTH, login, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def fits(page) -> bool:
    """Nothing wider than the window: no horizontal scrolling."""
    return page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def chart_points(page, canvas_id) -> int:
    page.wait_for_function(f"window.Chart && Chart.getChart(document.getElementById('{canvas_id}'))")
    return page.evaluate(f"Chart.getChart(document.getElementById('{canvas_id}')).data.datasets[0].data.length")


def a_week_of_movements():
    """A SKU whose ledger has a shape: goods in, sales, a reservation, damage, a count."""
    from stock.models import StockLevel
    from stock.services import ReservationRequestLine, reservation_create, stock_adjust

    level = (
        StockLevel.objects.filter(warehouse__code="MAIN", reserved=0)
        .select_related("sku", "warehouse")
        .order_by("pk")
        .first()
    )
    for delta, reason in ((40, "receipt"), (-12, "loss"), (-6, "damage"), (25, "receipt")):
        stock_adjust(sku=level.sku, warehouse=level.warehouse, delta=delta, reason=reason, reference="CHART")
    reservation_create(reference="CHART-ORDER", lines=[ReservationRequestLine(sku=level.sku, quantity=10)])
    stock_adjust(sku=level.sku, warehouse=level.warehouse, delta=-3, reason="correction", reference="CHART")
    return level.sku


def test_dashboard_and_sku_chart(page):
    from stock.models import StockLevel

    sku = a_week_of_movements()
    # One adjustment through the admin form: "Recent actions" lists it.
    level = StockLevel.objects.get(sku=sku, warehouse__code="MAIN")
    page.goto(f"/admin/stock/stocklevel/{level.pk}/adjust/")
    page.fill("#id_amount", "5")
    page.select_option("#id_reason", "receipt")
    page.fill("#id_reference", "PO-INDEX")
    page.click("input[name=_adjust]")
    page.wait_for_selector("ul.messagelist li.success")
    page.goto("/admin/")
    assert f"{sku.sku_code} at Main warehouse" in page.inner_text("#recent-actions-module")
    page.wait_for_selector("#stock-dashboard")
    assert page.locator(".dash-warehouses tbody tr").count() >= 3  # MAIN, EAST, total
    assert chart_points(page, "dashboard-chart") >= 6  # the SKU with the latest movement
    assert fits(page)
    # The low-stock table stays inside its panel: no scrolling inside it either.
    assert page.locator("#low-stock-panel tbody tr").count() >= 1
    assert page.evaluate("""(() => { const panel = document.querySelector('#low-stock-panel');
        const table = panel.querySelector('table');
        return table.getBoundingClientRect().right <= panel.getBoundingClientRect().right + 0.5
            && panel.scrollWidth <= panel.clientWidth; })()""")
    screenshot(page, "01-index-low-stock")
    page.click("a.dash-low")
    page.wait_for_selector("#result_list")
    assert "low=yes" in page.url

    page.goto(f"/admin/catalog/sku/{sku.pk}/change/")
    assert chart_points(page, "sku-stock-chart") >= 6
    assert page.locator("table.wh-stock tr").count() >= 1
    screenshot(page, "13-sku-page-chart")


def test_stock_by_warehouse_on_lists(page):
    from stock.models import StockLevel

    level = StockLevel.objects.filter(warehouse__code="EAST").select_related("sku").first()
    StockLevel.objects.filter(pk=level.pk).update(low_stock_threshold=level.on_hand + 1)
    page.goto(f"/admin/catalog/sku/?q={level.sku.sku_code}")
    row = page.locator("#result_list tbody tr").first
    assert "Low at EAST" in row.inner_text()
    assert "low, ≤" in row.locator("table.wh-stock tr.low").inner_text()
    page.goto("/admin/catalog/sku/")
    # Neither the page nor the list inside its panel scrolls sideways.
    assert fits(page) and last_column_right(page) <= 0.5
    screenshot(page, "05-skus", full_page=False)
    page.goto("/admin/catalog/product/")
    page.wait_for_selector("td.field-price_range")
    assert fits(page) and last_column_right(page) <= 0.5
    screenshot(page, "03-products", full_page=False)


def test_transfer_with_sku_suggestions(page):
    from stock.models import StockLevel

    level = StockLevel.objects.filter(warehouse__code="MAIN", on_hand__gte=5, reserved=0).select_related("sku").first()
    code = level.sku.sku_code
    page.goto(f"/admin/stock/stocklevel/{level.pk}/change/")
    page.click("a:has-text('Transfer')")
    page.wait_for_selector("#transfer-form")
    page.fill("#id_sku_code", "")
    page.type("#id_sku_code", code[:-2], delay=20)
    page.wait_for_function("document.querySelectorAll('#sku-codes option').length > 0")
    page.fill("#id_sku_code", code)
    page.select_option("#id_from_warehouse", label="MAIN")
    page.select_option("#id_to_warehouse", label="EAST")
    page.fill("#id_quantity", "3")
    page.fill("#id_reference", "T-BROWSER")
    screenshot(page, "14-transfer")
    page.click("input[name=_transfer]")
    message = page.locator("ul.messagelist li.success").inner_text()
    assert f"Transferred 3 × {code} from Main warehouse to East distribution centre" in message
    level.refresh_from_db()
    assert level.on_hand >= 2


def test_count_upload_preview_then_confirm(page, tmp_path):
    from stock.models import StockLevel, StockMovement

    levels = list(StockLevel.objects.filter(warehouse__code="MAIN", reserved=0).select_related("sku")[:3])
    sheet = tmp_path / "count.csv"
    sheet.write_text("sku_code,counted\n" + "".join(f"{lvl.sku.sku_code},{lvl.on_hand + 1}\n" for lvl in levels))
    page.goto("/admin/stock/stocklevel/")
    page.click("a:has-text('Upload count')")
    page.set_input_files("#id_sheet", str(sheet))
    page.fill("#id_reference", "CC-BROWSER")
    page.click("input[name=_preview]")
    page.wait_for_selector("table.sheet-preview")
    assert "Counted 3 lines: 3 changed (+3 / -0 units)" in page.inner_text(".sheet-summary")
    screenshot(page, "15-count-upload-preview")
    assert not StockMovement.objects.filter(reference="CC-BROWSER").exists()
    page.click("input[name=_confirm]")
    page.wait_for_selector("ul.messagelist li.success")
    assert StockMovement.objects.filter(reference="CC-BROWSER", reason="count").count() == 3


def last_column_right(page) -> float:
    return page.evaluate(
        "Math.max(...[...document.querySelectorAll('#result_list thead th')]"
        ".map(th => th.getBoundingClientRect().right))"
        " - document.querySelector('#changelist .results').getBoundingClientRect().right"
    )


def backordered_reservation():
    """A reservation of a preorder SKU, part of it waiting on an open inbound shipment to MAIN."""
    from catalog.models import SKU
    from stock.models import StockLevel, Warehouse
    from stock.services import (
        InboundLineInput,
        ReservationRequestLine,
        inbound_create,
        inbound_open,
        reservation_create,
    )

    level = StockLevel.objects.filter(warehouse__code="MAIN", reserved=0).select_related("sku").order_by("pk").first()
    SKU.objects.filter(pk=level.sku_id).update(backorder_policy="allow_incoming")
    sku = SKU.objects.get(pk=level.sku_id)
    inbound_open(
        shipment=inbound_create(
            reference="PO-PREORDER",
            warehouse=Warehouse.objects.get(code="MAIN"),
            lines=[InboundLineInput(sku=sku, quantity_expected=50)],
        )
    )
    return reservation_create(
        reference="PREORDER-BROWSER",
        ttl_seconds=86400,
        lines=[ReservationRequestLine(sku=sku, warehouse=level.warehouse, quantity=level.on_hand + 5)],
    ), sku


def test_ledger_and_reservations_fit_1280(page):
    _reservation, sku = backordered_reservation()
    page.goto("/admin/stock/stockmovement/")
    page.wait_for_selector("#result_list")
    assert fits(page) and last_column_right(page) <= 0.5
    screenshot(page, "07-movements", full_page=False)
    page.goto("/admin/stock/reservation/")
    page.wait_for_selector("#result_list")
    row = page.locator("#result_list tbody tr:has-text('PREORDER-BROWSER')").inner_text()
    assert f"{sku.sku_code} @ MAIN (5 waiting)" in row
    screenshot(page, "16-reservations", full_page=False)
    assert fits(page) and last_column_right(page) <= 0.5


def test_permission_page_names_what_is_missing(chromium, live_server, demo):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("viewer", password=PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_stocklevel"))
    context = chromium.new_context(viewport={"width": WIDTH, "height": 700}, base_url=live_server.url)
    page = context.new_page()
    login(page, "viewer")
    response = page.goto("/admin/stock/stocklevel/adjust/")
    assert response.status == 403
    assert "stock.adjust_stock" in page.inner_text(".missing-permission")
    assert page.locator("#site-name").count() == 1
    screenshot(page, "17-permission-denied")
    context.close()
