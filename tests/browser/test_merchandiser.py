"""The merchandiser's comforts at 1,280 px in a real browser: the attributes editor, bulk price
and category moves with their previews, the tree's drop confirmation and "Move to", the import
screen (CSV chosen, a template, errors in the rows) and history that starts at the demo data."""

from decimal import Decimal

import pytest

from tests.browser.conftest import drag_row_onto, pick, screenshot
from tests.browser.test_backoffice import fits

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def tick(page, pks):
    for pk in pks:
        page.check(f"input.action-select[value='{pk}']")


def run_action(page, label):
    page.select_option("select[name=action]", label=label)
    page.click("button[name=index]")


def test_attributes_editor_rows_and_raw_json(page):
    from catalog.models import SKU

    sku = SKU.objects.order_by("pk").first()
    page.goto(f"/admin/catalog/sku/{sku.pk}/change/")
    editor = page.locator(".field-attributes .attributes-editor")
    assert editor.locator("input.attribute-key").first.input_value() == "color"
    assert not editor.locator("textarea.attribute-raw").is_visible()
    editor.locator("button.attribute-add").click()
    editor.locator("input.attribute-key").last.fill("weight_g")
    editor.locator("input.attribute-value").last.fill("250")
    screenshot(page, "18-attributes-editor", full_page=False)
    editor.locator("input.attribute-raw-toggle").check()
    raw = editor.locator("textarea.attribute-raw")
    assert raw.is_visible() and '"weight_g": 250' in raw.input_value()
    raw.fill(raw.input_value().replace('"weight_g": 250', '"weight_g": 260'))
    editor.locator("input.attribute-raw-toggle").uncheck()  # back to the rows, rebuilt from the JSON
    assert editor.locator("input.attribute-value").nth(2).input_value() == "260"
    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist li.success")
    sku.refresh_from_db()
    assert sku.attributes["weight_g"] == 260 and sku.version == 2


def test_bulk_price_change_preview_then_apply(page):
    from catalog.models import SKU

    skus = list(SKU.objects.order_by("sku_code")[:3])
    page.goto("/admin/catalog/sku/?o=1")
    tick(page, [s.pk for s in skus])
    run_action(page, "Change price… (previewed)")
    page.check("input[name=how][value=percent]")
    page.fill("input[name=value]", "-10")
    page.click("button[value=preview]")
    page.wait_for_selector("table.bulk-preview")
    assert "3 SKUs will change" in page.inner_text(".bulk-summary")
    first = page.locator("table.bulk-preview tbody tr").first.inner_text()
    expected = (skus[0].price * Decimal("0.9")).quantize(Decimal("0.01"))
    assert f"{skus[0].price}\t{expected}" in first
    assert fits(page)
    screenshot(page, "19-bulk-price-preview", full_page=False)
    assert SKU.objects.get(pk=skus[0].pk).price == skus[0].price
    page.click("button[value=apply]")
    page.wait_for_selector("ul.messagelist li.success")
    assert "3 SKUs changed" in page.inner_text("ul.messagelist")
    assert SKU.objects.get(pk=skus[0].pk).price == expected


def test_move_products_to_category(page):
    from catalog.models import Category, Product

    product = Product.objects.order_by("pk").first()
    target = Category.objects.filter(level=2).exclude(pk=product.category_id).order_by("pk").first()
    page.goto(f"/admin/catalog/product/?q={product.name}")
    tick(page, [product.pk])
    run_action(page, "Move to category… (previewed)")
    pick(page, "category", target.name, target.path)
    page.click("button[value=preview]")
    page.wait_for_selector("table.bulk-preview")
    assert target.path in page.inner_text("table.bulk-preview")
    page.click("button[value=apply]")
    page.wait_for_selector("ul.messagelist li.success")
    product.refresh_from_db()
    assert product.category_id == target.pk


def test_dropping_a_branch_with_products_asks_first(page):
    from catalog.models import Category

    roots = list(Category.objects.filter(level=0).order_by("name")[:2])
    moved, target = roots
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.goto("/admin/catalog/category/")
    page.wait_for_selector(".drag-handle")
    page.once("dialog", lambda d: answer(d, accept=False))
    drag_row_onto(page, moved.pk, target.pk)
    page.wait_for_timeout(500)
    assert asked and f'Move "{moved.name}" with its' in asked[0] and f'into "{target.name}"' in asked[0]
    moved.refresh_from_db()
    assert moved.parent_id is None  # cancelled: nothing moved

    page.goto("/admin/catalog/category/")
    page.wait_for_selector(".drag-handle")
    page.once("dialog", lambda d: answer(d, accept=True))
    with page.expect_response(lambda r: r.request.method == "POST"):
        drag_row_onto(page, moved.pk, target.pk)
    page.wait_for_selector("ul.messagelist li")
    moved.refresh_from_db()
    assert moved.parent_id == target.pk


def test_move_to_action_across_levels(page):
    from catalog.models import Category

    leaf = Category.objects.filter(level=2).order_by("pk").first()
    target = Category.objects.filter(level=0).exclude(tree_id=leaf.tree_id).order_by("name").first()
    page.goto(f"/admin/catalog/category/?q={leaf.name}")
    tick(page, [leaf.pk])
    run_action(page, "Move to… (previewed; across pages and levels)")
    pick(page, "target", target.name, target.path)
    page.check("input[name=position][value=last-child]")
    page.click("button[value=preview]")
    page.wait_for_selector("table.bulk-preview")
    assert f"{target.path}/{leaf.name}" in page.inner_text("table.bulk-preview")
    screenshot(page, "20-category-move-to", full_page=False)
    page.click("button[value=apply]")
    page.wait_for_selector("ul.messagelist li.success")
    leaf.refresh_from_db()
    assert leaf.path == f"{target.path}/{leaf.name}"


def test_import_screen_csv_template_and_errors_in_rows(page):
    page.goto("/admin/catalog/sku/import/")
    assert page.locator("#id_format").input_value() == "0"
    with page.expect_download() as download:
        page.click("a:has-text('Download a CSV template')")
    path = download.value.path()
    with open(path, encoding="utf-8") as f:
        assert f.read().strip() == "sku_code,category_path,product,price,attributes,backorder_policy"
    csv = b"sku_code,category_path,product,price,attributes\nNEW-1,No/Such,Thing,1.00,\nNEW-2,No/Such,Thing,abc,\n"
    page.set_input_files("#id_import_file", {"name": "skus.csv", "mimeType": "text/csv", "buffer": csv})
    page.click("input[type=submit]")
    page.wait_for_selector("td.row-errors")
    errors = page.locator("td.row-errors")
    assert errors.count() == 2 and errors.first.is_visible()
    assert "No active category 'No/Such'." in errors.first.inner_text()


def test_history_of_a_demo_sku_starts_at_the_start(page):
    from catalog.models import SKU

    sku = SKU.objects.order_by("pk").first()
    original = sku.price
    page.goto(f"/admin/catalog/sku/{sku.pk}/change/")
    page.fill("#id_price", str(original + 5))
    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist li.success")
    page.goto(f"/admin/catalog/sku/{sku.pk}/history/")
    table = " ".join(page.inner_text("#change-history").split())  # no-break spaces around the arrow too
    assert f"Price: {original} → {original + 5}" in table
    assert "Demo data (load_demo_data)" in table and "None" not in table
    screenshot(page, "12-history", full_page=False)
    page.click("#change-history tbody tr:last-child a")  # the initial record
    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist li.success")
    sku.refresh_from_db()
    assert sku.price == original
