"""The admin as staff use it, in a real browser: tree, products, stock, stale saves, imports."""

from decimal import Decimal

import pytest

from tests.browser.conftest import drag_row_onto, pick, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def add_category(page, name, parent=None):
    page.goto("/admin/catalog/category/add/")
    page.fill("#id_name", name)
    if parent is not None:
        pick(page, "parent", parent.name, parent.path)
    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist li.success")


def test_category_tree_create_and_drag(new_page):
    from catalog.models import Category

    page = new_page()
    add_category(page, "Electronics")
    electronics = Category.objects.get(name="Electronics")
    add_category(page, "Phones", parent=electronics)
    add_category(page, "Accessories")
    add_category(page, "Cables", parent=Category.objects.get(name="Accessories"))
    page.goto(f"/admin/catalog/category/{Category.objects.get(name='Cables').pk}/change/")
    page.check("input[name=attributes__mode]")  # the raw JSON, behind its switch
    page.fill("#id_attributes", '{"material": "copper", "lengths_m": [1, 2]}')
    page.locator("#id_attributes").blur()
    screenshot(page, "11-category-form")
    accessories = Category.objects.get(name="Accessories")
    assert Category.objects.get(name="Phones").path == "Electronics/Phones"

    page.goto("/admin/catalog/category/")
    page.wait_for_selector(".drag-handle")
    drag_row_onto(page, accessories.pk, electronics.pk, posts=True)
    page.wait_for_selector("ul.messagelist li")
    accessories.refresh_from_db()
    assert accessories.parent_id == electronics.pk
    assert accessories.path == "Electronics/Accessories"
    assert Category.objects.get(name="Cables").path == "Electronics/Accessories/Cables"
    assert accessories.version == 2  # the move went through category_move

    page.goto(f"/admin/catalog/category/?parent={electronics.pk}")
    page.wait_for_selector("text=Accessories")
    screenshot(page, "02-categories-tree")


def test_product_with_two_skus_then_adjust_stock(new_page):
    from catalog import services
    from catalog.models import SKU, Product
    from stock.models import StockMovement

    electronics = services.category_create(name="Electronics")
    services.category_create(name="Phones", parent_id=electronics.pk)
    page = new_page()

    page.goto("/admin/catalog/product/add/")
    page.fill("#id_name", "Phone X")
    pick(page, "category", "phones", "Electronics/Phones")
    page.fill("#id_description", "A phone with two colours.")
    # The variant grid: two new rows, an attribute column set on both, then one cell changed.
    page.fill("[name=n-0-code]", "PHONE-X-RED")
    page.fill("[name=n-0-price]", "499.00")
    page.click("#variant-add-row")
    page.fill("[name=n-1-code]", "PHONE-X-BLUE")
    page.fill("[name=n-1-price]", "489.00")
    page.check("#variant-pick-all")
    page.fill("#bulk-attr-key", "color")
    page.fill("#bulk-attr-value", "red")
    page.click("#bulk-attr-apply")
    page.fill("[name=n-1-a0]", "blue")
    page.click("input[name=_continue]")
    page.wait_for_selector("ul.messagelist li.success")
    product = Product.objects.get(name="Phone X")
    assert sorted(product.skus.values_list("sku_code", "price")) == [
        ("PHONE-X-BLUE", Decimal("489.00")),
        ("PHONE-X-RED", Decimal("499.00")),
    ]
    assert SKU.objects.get(sku_code="PHONE-X-BLUE").attributes == {"color": "blue"}
    screenshot(page, "04-product-with-sku-inlines")  # the name README links to: now the variant grid

    page.goto("/admin/stock/stocklevel/adjust/?sku=PHONE-X-RED")
    page.check("input[name=mode][value=delta]")
    page.fill("#id_amount", "25")
    page.select_option("#id_reason", "receipt")
    page.fill("#id_reference", "PO-1001")
    page.fill("#id_note", "First delivery")
    screenshot(page, "06-adjust-stock")
    page.click("input[name=_adjust]")
    page.wait_for_selector("ul.messagelist li.success")
    assert "/admin/stock/stockmovement/" in page.url
    row = page.locator("#result_list tbody tr").first
    assert "+25" in row.inner_text() and "PO-1001" in row.inner_text()
    movement = StockMovement.objects.get(reference="PO-1001")
    assert (movement.delta, movement.reason, movement.created_by.username) == (25, "receipt", "admin")

    # A second adjustment from the level's own form: a count that sets on-hand.
    from stock.models import StockLevel

    level = StockLevel.objects.get(sku__sku_code="PHONE-X-RED")
    page.goto(f"/admin/stock/stocklevel/{level.pk}/adjust/")
    page.check("input[name=mode][value=count]")
    page.fill("#id_amount", "3")
    page.select_option("#id_reason", "count")
    page.click("input[name=_adjust]")
    page.wait_for_selector("ul.messagelist li.success")
    level.refresh_from_db()
    assert level.on_hand == 3
    StockLevel.objects.filter(pk=level.pk).update(low_stock_threshold=5)

    page.goto("/admin/")
    page.wait_for_selector("#low-stock-panel")
    assert "PHONE-X-RED" in page.locator("#low-stock-panel").inner_text()
    page.goto("/admin/catalog/sku/")
    assert page.locator("tr:has-text('PHONE-X-RED') .stock-status.low").count() == 1


def test_stale_save_from_two_browsers(new_page):
    from catalog import services

    category = services.category_create(name="Garden")
    product = services.product_create(name="Hose", category_id=category.pk)
    alice, bob = new_page(), new_page()
    url = f"/admin/catalog/product/{product.pk}/change/"
    alice.goto(url)
    bob.goto(url)

    alice.fill("#id_description", "Alice's text")
    alice.click("input[name=_save]")
    alice.wait_for_selector("ul.messagelist li.success")

    bob.fill("#id_name", "Garden hose")
    bob.click("input[name=_save]")
    bob.wait_for_selector(".errornote")
    assert "changed by someone else since you opened it" in bob.content()
    screenshot(bob, "09-stale-save")
    product.refresh_from_db()
    assert (product.name, product.description, product.version) == ("Hose", "Alice's text", 2)

    alice.goto(f"/admin/catalog/product/{product.pk}/history/")
    assert "Alice's text" in alice.locator("#change-history").inner_text()


def test_import_with_one_bad_row_imports_nothing(new_page):
    from catalog import services
    from catalog.models import SKU

    phones = services.category_create(name="Phones")
    product = services.product_create(name="Phone X", category_id=phones.pk)
    page = new_page()
    page.goto("/admin/catalog/sku/import/")
    csv = (
        b"sku_code,category_path,product,price,attributes\n"
        b"PHONE-X-GREEN,Phones,Phone X,499.00,\n"
        b"PHONE-X-GOLD,Phones,Phone X,free,\n"
        b'PHONE-X-PINK,Phones,Phone X,459.00,"{""color"": ""pink""}"\n'
    )
    page.set_input_files("#id_import_file", {"name": "skus.csv", "mimeType": "text/csv", "buffer": csv})
    page.select_option("#id_format", label="csv")
    page.click("input[type=submit]")
    page.wait_for_selector("text=not a price")
    assert page.locator("input[value='Confirm import']").count() == 0
    error = page.locator("td.row-errors").first
    assert error.is_visible() and "not a price" in error.inner_text()  # read without hovering
    screenshot(page, "10-import-row-error")
    assert not SKU.all_objects.filter(product=product).exists()
