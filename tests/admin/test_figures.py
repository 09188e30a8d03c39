"""Issue 22, wrong or misleading figures: each test failed before its fix."""

import re

import pytest
from django.urls import reverse

from stock import services
from stock.models import StockLevel, StockState
from stock.services import stock_receive, stock_state_move
from tests.admin.conftest import text_of
from tests.stock.conftest import stored_level

pytestmark = pytest.mark.django_db


@pytest.fixture
def broken(catalog, main_warehouse):
    """PHONE-X-RED at MAIN: 15 on hand, 3 of them damaged, 2 in quality control, 10 available."""
    red = catalog["red"]
    stock_receive(sku=red, quantity=3)
    stock_state_move(
        sku=red, warehouse=main_warehouse, quantity=3, from_state="sellable", to_state="damaged", reason="damage"
    )
    stock_state_move(
        sku=red,
        warehouse=main_warehouse,
        quantity=2,
        from_state="sellable",
        to_state="quality_control",
        reason="inspection",
    )
    level = stored_level(sku=red, warehouse=main_warehouse)
    assert (level.on_hand, level.damaged, level.quality_control, level.available) == (15, 3, 2, 10)
    return level


@pytest.mark.parametrize(("state", "counter"), [("damaged", "damaged"), ("quality_control", "quality_control")])
def test_the_adjust_form_writes_off_units_of_a_state_leaving_available_alone(staff_client, broken, state, counter):
    held = getattr(broken, counter)
    response = staff_client.post(
        reverse("admin:stock_stocklevel_adjust_level", args=[broken.pk]),
        {
            "sku_code": "PHONE-X-RED",
            "warehouse": broken.warehouse.pk,
            "mode": "delta",
            "amount": -held,
            "from_state": state,
            "reason": "damage",
            "expected_on_hand": 15,
        },
        follow=True,
    )
    after = stored_level(pk=broken.pk)
    assert (after.on_hand, getattr(after, counter), after.available) == (15 - held, 0, 10)
    assert f"Wrote off {held} {StockState(state).label.lower()} units (Damage)" in text_of(response)


def test_the_adjust_form_offers_every_write_off_state_and_no_preselected_reason(staff_client, broken):
    form = staff_client.get(reverse("admin:stock_stocklevel_adjust_level", args=[broken.pk])).context["form"]
    offered = {value for value, _label in form.fields["from_state"].choices if value}
    assert offered == {str(state) for state in services.WRITE_OFF_STATES}
    assert not form["reason"].value()


def test_a_refused_write_off_names_the_field(staff_client, broken):
    response = staff_client.post(
        reverse("admin:stock_stocklevel_adjust_level", args=[broken.pk]),
        {
            "sku_code": "PHONE-X-RED",
            "warehouse": broken.warehouse.pk,
            "mode": "delta",
            "amount": -1,
            "from_state": "damaged",
            "reason": "loss",
            "expected_on_hand": 15,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["A write-off has reason damage."]
    broken.refresh_from_db()
    assert (broken.on_hand, broken.damaged) == (15, 3)


def test_the_state_move_hint_names_only_controls_on_the_page_it_links_to(staff_client, broken):
    page = staff_client.get(reverse("admin:stock_stocklevel_state_move_level", args=[broken.pk])).content.decode()
    hint = re.search(r'<p class="help" id="write-off-hint">(.*?)</p>', page, re.S).group(1)
    link = re.search(r'href="([^"]+)"', hint).group(1).replace("&amp;", "&")
    adjust = staff_client.get(link)
    assert adjust.status_code == 200 and adjust.context["form"]["from_state"].value() == "damaged"
    labels = {str(field.label) for field in adjust.context["form"]}
    for named in re.findall(r"<em>(.*?)</em>", hint):
        choices = [
            str(label)
            for field in adjust.context["form"]
            if hasattr(field.field, "choices")
            for _value, label in field.field.choices
        ]
        assert named in labels or named in choices, named


def _dashboard_links(page: str) -> list[tuple[str, int]]:
    """Each number of the dashboard that is a link: `(href, number)`."""
    found = []
    for href, inner in re.findall(r'<a class="dash-count" href="([^"]+)">(.*?)</a>', page, re.S):
        found.append((href.replace("&amp;", "&"), int(re.sub(r"<[^>]+>|,", "", inner).strip())))
    for href, inner in re.findall(
        r'<a href="([^"]+)" class="section">[^<]*<span class="dash-count">([^<]+)</span>', page
    ):
        found.append((href.replace("&amp;", "&"), int(inner.replace(",", ""))))
    return found


def test_every_dashboard_number_links_to_exactly_the_rows_it_counts(staff_client, catalog, main_warehouse):
    from catalog.services import sku_soft_delete
    from stock.services import ReservationRequestLine, reservation_create
    from tests.catalog.factories import SKUFactory

    product = catalog["product"]
    StockLevel.objects.filter(sku=catalog["red"]).update(low_stock_threshold=20)
    for n, on_hand in enumerate([0, 9, 1, 5, 3, 0]):
        sku = SKUFactory(sku_code=f"FILL-{n}", product=product)
        if on_hand:
            stock_receive(sku=sku, quantity=on_hand)
        else:
            StockLevel.objects.create(sku=sku, warehouse=main_warehouse, on_hand=0)
        StockLevel.objects.filter(sku=sku).update(low_stock_threshold=10)
    gone = SKUFactory(sku_code="GONE", product=product)
    StockLevel.objects.create(sku=gone, warehouse=main_warehouse, on_hand=0)
    sku_soft_delete(sku_id=gone.pk)
    reservation_create(
        reference="SOON", ttl_seconds=600, lines=[ReservationRequestLine(sku=catalog["red"], quantity=12)]
    )
    reservation_create(
        reference="LATER", ttl_seconds=7200, lines=[ReservationRequestLine(sku=catalog["blue"], quantity=1)]
    )

    page = staff_client.get(reverse("admin:index")).content.decode()
    links = _dashboard_links(page)
    assert len(links) >= 6
    for href, number in links:
        listing = staff_client.get(href)
        assert listing.status_code == 200, href
        assert listing.context["cl"].result_count == number, href
    empty = staff_client.get(next(href for href, _n in links if "available=none" in href)).context["cl"]
    assert [level.effective_available for level in empty.result_list] == [0, 0, 0, 0]
    low = staff_client.get(next(href for href, _n in links if "low=yes" in href)).context["cl"]
    shown = [level.effective_available for level in low.result_list]
    assert shown == sorted(shown) and shown[0] == 0 and max(shown) <= 9


def test_the_inside_link_counts_the_rows_it_opens(staff_client, db):
    from catalog.services import category_soft_delete
    from tests.catalog.factories import CategoryFactory

    clothing = CategoryFactory(name="Clothing")
    men = CategoryFactory(name="Men", parent=clothing)
    CategoryFactory(name="Shirts", parent=men)
    old = CategoryFactory(name="Old", parent=clothing)
    category_soft_delete(category_id=old.pk)
    page = staff_client.get(reverse("admin:catalog_category_changelist")).content.decode()
    link = re.search(r'<a class="tree-expand" href="([^"]+)">(?:▸|&#9656;) (\d+) inside</a>', page)
    assert link.group(2) == "1"
    opened = staff_client.get(link.group(1).replace("&amp;", "&"))
    assert [c.name for c in opened.context["cl"].result_list] == ["Men"]


def test_the_import_preview_shows_a_price_change_whole_and_unchanged_rows_as_unchanged(staff_client, catalog):
    from decimal import Decimal

    from django.core.files.uploadedfile import SimpleUploadedFile

    from catalog.models import SKU

    SKU.objects.filter(pk=catalog["red"].pk).update(price=Decimal("39.90"))
    blue = SKU.objects.get(pk=catalog["blue"].pk)
    csv = (
        "sku_code,category_path,product,price,attributes,backorder_policy\n"
        'PHONE-X-RED,Electronics/Phones,Phone X,35.00,"{""color"": ""red""}",\n'
        f"PHONE-X-BLUE,Electronics/Phones,Phone X,{blue.price},{{}},{blue.backorder_policy}\n"
    ).encode()
    preview = staff_client.post(
        reverse("admin:catalog_sku_import"),
        {"resource": "0", "format": "0", "import_file": SimpleUploadedFile("skus.csv", csv)},
    )
    rows = re.findall(
        r'<tr class="(\w+)">\s*<td class="import-type">(\w+)</td>(.*?)</tr>', preview.content.decode(), re.S
    )
    assert [(kind, label) for kind, label, _cells in rows] == [("update", "Update"), ("skip", "Unchanged")]
    red_cells = rows[0][2]
    assert '<del class="old">39.90</del> <span class="change-arrow">→</span> <ins class="new">35.00</ins>' in red_cells
    assert "39.95.00" not in text_of(preview)
    assert "1 to update, 1 unchanged" in text_of(preview)


def test_the_product_history_shows_a_price_changed_on_the_product_page(staff_client, catalog):
    from tests.admin.conftest import product_form

    product, red = catalog["product"], catalog["red"]
    before = product.history.count()
    data = product_form(product, {f"v-{red.pk}-price": "450.00"})
    response = staff_client.post(reverse("admin:catalog_product_change", args=[product.pk]), data)
    assert response.status_code == 302
    red.refresh_from_db()
    assert str(red.price) == "450.00"
    assert product.history.count() == before  # no empty "Changed" record of the product
    page = staff_client.get(reverse("admin:catalog_product_history", args=[product.pk])).content.decode()
    section = re.sub(
        r"\s+", " ", text_of(type("R", (), {"content": page.split('id="variant-changes"', 1)[1].encode()}))
    )
    assert "PHONE-X-RED" in section and "Price: 499.00 → 450.00" in section
    assert section.count("Changed admin") == 1  # the SKU left as it was has no record


def test_a_refused_receipt_names_every_failing_line(staff_client, catalog, main_warehouse):
    from stock.models import InboundShipment
    from stock.services import InboundLineInput, inbound_create, inbound_open

    shipment = inbound_open(
        shipment=inbound_create(
            reference="PO-77",
            supplier="Acme",
            warehouse=main_warehouse,
            lines=[InboundLineInput(sku=catalog["red"], quantity_expected=4)],
        )
    )
    response = staff_client.post(
        reverse("admin:stock_inboundshipment_receive", args=[shipment.pk]), {"lines": "PHONE-X-RED 5\nPHONE-X-BLUE 1"}
    )
    page = text_of(response)
    assert "PHONE-X-RED: 5 more would pass the 4 expected (0 received)" in page
    assert "PHONE-X-BLUE: This SKU is not on the shipment" in page
    assert InboundShipment.objects.get(pk=shipment.pk).lines.get().quantity_received == 0


def test_the_403_page_says_which_groups_have_the_permission_and_who_can_grant_it(client, db):
    from django.core.management import call_command

    from tests.conftest import grant
    from tests.factories import UserFactory

    call_command("setup_roles", verbosity=0)
    UserFactory(username="boss", is_superuser=True, is_staff=True, email="boss@example.com")
    clerk = grant(UserFactory(username="pat", is_staff=True), "stock.view_stocklevel")
    client.force_login(clerk)
    response = client.get(reverse("admin:stock_stocklevel_adjust"))
    page = re.sub(r"\s+", " ", text_of(response)).replace("( ", "(").replace(" )", ")")
    assert response.status_code == 403
    assert "Can adjust stock (receipts, counts, corrections)" in page
    assert "The groups Inventory manager and Stock clerk include it." in page
    assert "Ask boss (boss@example.com) to give it to you, or to add you to one of those groups" in page
    assert "README" not in page


def test_a_soft_delete_from_a_list_asks_first(staff_client, catalog):
    from catalog.models import SKU

    url = reverse("admin:catalog_sku_changelist")
    ticked = {"action": "soft_delete_selected", "_selected_action": [catalog["red"].pk, catalog["blue"].pk]}
    asked = staff_client.post(url, ticked)
    assert asked.status_code == 200
    assert "Delete 2 SKUs?" in text_of(asked) and "PHONE-X-RED" in text_of(asked)
    assert SKU.objects.count() == 2  # nothing deleted yet
    done = staff_client.post(url, {**ticked, "post": "yes"}, follow=True)
    assert "Deleted 2 SKUs." in text_of(done)
    assert SKU.objects.count() == 0


@pytest.mark.parametrize("model", ["category", "product", "sku"])
def test_add_forms_show_no_internal_fields(staff_client, catalog, model):
    page = staff_client.get(reverse(f"admin:catalog_{model}_add"))
    html = page.content.decode()
    words = text_of(page)
    assert page.status_code == 200
    for internal in ("field-version", "field-created_at", "field-updated_at", "field-deleted_at"):
        assert internal not in html, internal
    assert "Stock by warehouse" not in words and "Add stock after saving" not in words
    assert "Stock over time" not in words


def test_one_date_format_on_every_screen(staff_client, catalog):
    from stock.services import ReservationRequestLine, reservation_create

    reservation = reservation_create(reference="R-1", lines=[ReservationRequestLine(sku=catalog["red"], quantity=1)])
    pages = [
        reverse("admin:stock_reservation_change", args=[reservation.pk]),
        reverse("admin:stock_reservation_changelist"),
        reverse("admin:catalog_product_history", args=[catalog["product"].pk]),
        reverse("admin:catalog_product_change", args=[catalog["product"].pk]),
    ]
    for url in pages:
        page = text_of(staff_client.get(url))
        assert not re.search(r"\b(a|p)\.m\.|\b(Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Oct|Nov|Dec)\. \d", page), url
        assert re.search(r"\b20\d\d-\d\d-\d\d \d\d:\d\d\b", page), url


def test_lists_write_money_with_its_currency_and_quantities_with_separators(staff_client, catalog):
    from stock.services import stock_receive

    stock_receive(sku=catalog["red"], quantity=12_000)
    skus = text_of(staff_client.get(reverse("admin:catalog_sku_changelist")))
    assert "499.00 EUR" in skus and "12,012" in skus
    products = text_of(staff_client.get(reverse("admin:catalog_product_changelist")))
    assert "499.00 EUR" in products and "12,013" in products
    levels = text_of(staff_client.get(reverse("admin:stock_stocklevel_changelist")))
    assert "12,012" in levels


@pytest.mark.parametrize("model", ["category", "product", "sku"])
def test_export_and_import_default_to_the_same_format(staff_client, catalog, model):
    export = staff_client.get(reverse(f"admin:catalog_{model}_export")).context["form"]
    upload = staff_client.get(reverse(f"admin:catalog_{model}_import")).context["form"]
    assert export["format"].value() == upload["format"].value() == "0"
    assert dict(export.fields["format"].choices)["0"] == dict(upload.fields["format"].choices)["0"] == "csv"
