"""Import and export through django-import-export: preview, confirm, all or nothing."""
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from catalog.models import SKU, Category, Product

pytestmark = pytest.mark.django_db


def upload(client, model, content: bytes, name="data.csv", fmt=0):
    """Post the file to the import page (the preview step); `fmt` indexes [CSV, XLSX]."""
    return client.post(reverse(f"admin:catalog_{model}_import"), {
        "resource": "0", "format": str(fmt), "import_file": SimpleUploadedFile(name, content),
    })


def confirm(client, model, preview):
    form = preview.context["confirm_form"]
    return client.post(reverse(f"admin:catalog_{model}_process_import"), {**form.initial, "resource": "0"})


def test_categories_by_path_preview_then_confirm(staff_client, catalog):
    csv = b"path,description,attributes\nElectronics/Phones/Cases,Covers,\nGarden,,{\"season\": \"summer\"}\n"
    preview = upload(staff_client, "category", csv)
    assert preview.status_code == 200
    assert preview.context["result"].totals["new"] == 2
    assert not Category.objects.filter(name="Cases").exists()  # the preview wrote nothing
    done = confirm(staff_client, "category", preview)
    assert done.status_code == 302
    assert Category.objects.get(name="Cases").path == "Electronics/Phones/Cases"
    assert Category.objects.get(name="Garden").attributes == {"season": "summer"}


def test_one_bad_row_shows_its_error_and_imports_nothing(staff_client, catalog):
    csv = (
        b"sku_code,category_path,product,price,attributes\n"
        b"PHONE-X-GREEN,Electronics/Phones,Phone X,499.00,\n"
        b"PHONE-X-GOLD,Electronics/Phones,Phone X,not-a-price,\n"
        b"PHONE-X-RED,Electronics/Phones,Phone X,450.00,\n"
    )
    preview = upload(staff_client, "sku", csv)
    body = preview.content.decode()
    assert "not a price" in body
    assert preview.context.get("confirm_form") is None
    assert not SKU.objects.filter(sku_code="PHONE-X-GREEN").exists()
    assert str(SKU.objects.get(sku_code="PHONE-X-RED").price) == "499.00"


def test_service_rule_breaks_are_row_errors(staff_client, catalog):
    csv = b"path,description,attributes\nElectronics/Phones/Bad/Name,,\nNo/Such/Parent,,\n"
    preview = upload(staff_client, "category", csv)
    assert preview.context["result"].has_validation_errors()
    assert "No active category" in preview.content.decode()
    assert not Category.objects.filter(name="Name").exists()


def test_products_and_skus_update_through_services(staff_client, catalog):
    csv = b"category_path,name,description,attributes\nElectronics/Phones,Phone X,Updated text,\n"
    confirm(staff_client, "product", upload(staff_client, "product", csv))
    product = Product.objects.get(pk=catalog["product"].pk)
    assert (product.description, product.version) == ("Updated text", 2)
    csv = b"sku_code,category_path,product,price,attributes\nphone-x-red,Electronics/Phones,Phone X,450.00,\n"
    confirm(staff_client, "sku", upload(staff_client, "sku", csv))
    red = SKU.objects.get(pk=catalog["red"].pk)
    assert (str(red.price), red.sku_code, red.version) == ("450.00", "PHONE-X-RED", 2)


def test_xlsx_import(staff_client, catalog):
    book = Workbook()
    sheet = book.active
    sheet.append(["category_path", "name", "description", "attributes"])
    sheet.append(["Electronics/Phones", "Phone Y", "", ""])
    data = io.BytesIO()
    book.save(data)
    preview = upload(staff_client, "product", data.getvalue(), name="p.xlsx", fmt=1)
    assert preview.context["result"].totals["new"] == 1
    confirm(staff_client, "product", preview)
    assert Product.objects.filter(name="Phone Y", category=catalog["phones"]).exists()


@pytest.mark.parametrize("fmt,check", [(0, "csv"), (1, "xlsx")])
def test_export(staff_client, catalog, fmt, check):
    response = staff_client.post(reverse("admin:catalog_sku_export"), {
        "format": str(fmt), "resource": "0",
        **{f"skuresource_{f}": "on" for f in ("sku_code", "category_path", "product", "price", "attributes")},
    })
    assert response.status_code == 200
    if check == "csv":
        text = response.content.decode()
        assert text.splitlines()[0] == "sku_code,category_path,product,price,attributes"
        assert "PHONE-X-RED,Electronics/Phones,Phone X,499.00" in text
    else:
        rows = list(load_workbook(io.BytesIO(response.content)).active.values)
        assert rows[0] == ("sku_code", "category_path", "product", "price", "attributes")
        assert len(rows) == 3
