"""The clerk's screens: transfer, count sheet / bulk adjustment upload (CSV and XLSX, previewed,
all or nothing, through the count and bulk services), "Adjust" on the level page, SKU suggestions."""

import html as html_lib
import io
import re

import openpyxl
import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from stock.models import StockLevel, StockMovement
from stock.services.warehouses import warehouse_create
from tests.admin.conftest import text_of
from tests.conftest import grant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
UPLOAD = "admin:stock_stocklevel_upload"


@pytest.fixture
def east(db):
    return warehouse_create(code="EAST", name="East depot")


def on_hand(sku, warehouse) -> int:
    level = StockLevel.objects.filter(sku=sku, warehouse=warehouse).first()
    return level.on_hand if level else 0


class TestTransfer:
    def test_moves_units_and_writes_both_movements(self, staff_client, catalog, main_warehouse, east):
        response = staff_client.post(
            reverse("admin:stock_stocklevel_transfer"),
            {
                "sku_code": "phone-x-red",
                "from_warehouse": main_warehouse.pk,
                "to_warehouse": east.pk,
                "quantity": 5,
                "reference": "T-9",
            },
            follow=True,
        )
        assert (
            "Transferred 5 × PHONE-X-RED from Main warehouse to East depot (T-9). "
            "Now 7 on hand at Main warehouse, 5 at East depot."
        ) in text_of(response)
        assert (on_hand(catalog["red"], main_warehouse), on_hand(catalog["red"], east)) == (7, 5)
        assert sorted(StockMovement.objects.filter(reference="T-9").values_list("reason", "delta")) == [
            ("transfer_in", 5),
            ("transfer_out", -5),
        ]
        assert LogEntry.objects.filter(object_repr="PHONE-X-RED at East depot").exists()

    def test_too_many_is_refused_in_words_and_writes_nothing(self, staff_client, catalog, main_warehouse, east):
        before = StockMovement.objects.count()
        response = staff_client.post(
            reverse("admin:stock_stocklevel_transfer"),
            {
                "sku_code": "PHONE-X-RED",
                "from_warehouse": main_warehouse.pk,
                "to_warehouse": east.pk,
                "quantity": 50,
            },
        )
        assert response.status_code == 200
        assert (
            "Not transferred (PHONE-X-RED from Main warehouse): "
            "Not enough stock available (12 available, 50 requested)."
        ) in text_of(response)
        assert StockMovement.objects.count() == before

    def test_same_warehouse_and_permission(self, client, staff_client, catalog, main_warehouse):
        response = staff_client.post(
            reverse("admin:stock_stocklevel_transfer"),
            {
                "sku_code": "PHONE-X-RED",
                "from_warehouse": main_warehouse.pk,
                "to_warehouse": main_warehouse.pk,
                "quantity": 1,
            },
        )
        assert "Choose a different warehouse" in text_of(response)
        client.force_login(grant(UserFactory(is_staff=True), "stock.view_stocklevel"))
        response = client.get(reverse("admin:stock_stocklevel_transfer"))
        assert response.status_code == 403 and "stock.transfer_stock" in text_of(response)


def xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class TestSheetUpload:
    def preview(self, client, name, content, **data):
        return client.post(
            reverse(UPLOAD),
            {
                "kind": "count",
                "reason": "receipt",
                "reference": "CC-1",
                **data,
                "sheet": SimpleUploadedFile(name, content),
            },
        )

    def confirm(self, client, preview_response):
        html = preview_response.content.decode()
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
        fields = {k: html_lib.unescape(v) for k, v in fields.items()}
        return client.post(reverse(UPLOAD), {**fields, "_confirm": "1"}, follow=True)

    def test_csv_count_previews_then_applies_as_count_movements(self, staff_client, catalog, main_warehouse, east):
        sheet = b"sku_code,counted,warehouse\nPHONE-X-RED,10,\nphone-x-blue,4,MAIN\nPHONE-X-RED,2,EAST\n"
        response = self.preview(staff_client, "count.csv", sheet)
        page = text_of(response)
        assert "Preview: nothing is changed until you confirm" in page
        assert "Counted 3 lines: 3 changed (+5 / -2 units), 0 unchanged." in page
        assert "line 2 PHONE-X-RED MAIN 12 10 -2" in page and "line 4 PHONE-X-RED EAST 0 2 +2" in page
        assert on_hand(catalog["red"], main_warehouse) == 12  # the preview changed nothing
        page = text_of(self.confirm(staff_client, response))
        assert "Counted 3 lines: 3 changed" in page
        assert (
            on_hand(catalog["red"], main_warehouse),
            on_hand(catalog["blue"], main_warehouse),
            on_hand(catalog["red"], east),
        ) == (10, 4, 2)
        assert set(StockMovement.objects.filter(reference="CC-1").values_list("reason", flat=True)) == {"count"}

    def test_xlsx_count_with_a_bad_line_names_it_and_changes_nothing(self, staff_client, catalog, main_warehouse):
        content = xlsx([["SKU_CODE", "counted"], ["PHONE-X-RED", 3], ["NO-SUCH", 1], ["PHONE-X-BLUE", "many"]])
        response = self.preview(staff_client, "count.xlsx", content)
        page = text_of(response)
        assert "2 invalid line(s); nothing was changed." in page
        assert "line 3 : unknown sku_code 'NO-SUCH'" in page
        assert "line 4 : counted 'many' is not a whole number" in page
        assert "Confirm" not in page
        assert on_hand(catalog["red"], main_warehouse) == 12

    def test_bulk_adjustment_is_all_or_nothing(self, staff_client, catalog, main_warehouse):
        sheet = b"sku_code,change\nPHONE-X-RED,+5\nPHONE-X-BLUE,-3\n"
        response = self.preview(staff_client, "adjust.csv", sheet, kind="adjust", reason="receipt")
        assert "Adjusted 2 lines (+5 / -3 units)." in text_of(response)
        page = text_of(self.confirm(staff_client, response))
        # Blue has 1 unit: the whole sheet is refused at confirm, red is not changed either.
        assert "Not enough stock available; nothing was changed." in page
        assert "line 3 : 1 available, 3 requested" in page
        assert on_hand(catalog["red"], main_warehouse) == 12
        response = self.preview(staff_client, "adjust.csv", b"sku_code,change\nPHONE-X-RED,+5\n", kind="adjust")
        self.confirm(staff_client, response)
        assert on_hand(catalog["red"], main_warehouse) == 17
        assert StockMovement.objects.filter(reference="CC-1", reason="receipt", delta=5).count() == 1

    def test_wrong_columns_and_file_types_are_form_errors(self, staff_client, catalog):
        page = text_of(self.preview(staff_client, "count.csv", b"code,qty\nPHONE-X-RED,1\n"))
        assert "Line 1 must name the columns sku_code, counted; missing: sku_code, counted." in page
        page = text_of(self.preview(staff_client, "count.pdf", b"%PDF"))
        assert "Upload a .csv or .xlsx file." in page
        page = text_of(self.preview(staff_client, "count.xlsx", b"not a workbook"))
        assert "could not be read as an XLSX workbook" in page


def test_every_level_page_has_adjust_and_transfer_buttons(staff_client, catalog):
    level = StockLevel.objects.get(sku=catalog["red"])
    html = staff_client.get(reverse("admin:stock_stocklevel_change", args=[level.pk])).content.decode()
    assert f'href="{reverse("admin:stock_stocklevel_adjust_level", args=[level.pk])}"' in html
    assert reverse("admin:stock_stocklevel_transfer") + "?sku=PHONE-X-RED" in html


def test_adjust_form_suggests_sku_codes(staff_client, catalog):
    html = staff_client.get(reverse("admin:stock_stocklevel_adjust")).content.decode()
    assert 'list="sku-codes"' in html and 'id="sku-codes"' in html and "sku-autocomplete.js" in html
    # The endpoint the script asks: the admin's own autocomplete, searching SKU codes.
    response = staff_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "stock", "model_name": "stocklevel", "field_name": "sku", "term": "x-bl"},
    )
    assert [item["text"] for item in response.json()["results"]] == ["PHONE-X-BLUE"]
