"""Import and export through django-import-export: preview, confirm, all or nothing."""

import csv as csv_module
import html
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from catalog import services
from catalog.models import SKU, Category, Product
from tests.reliability.world import fingerprint

pytestmark = pytest.mark.django_db


def upload(client, model, content: bytes, name="data.csv", fmt=0):
    """Post the file to the import page (the preview step); `fmt` indexes [CSV, XLSX]."""
    return client.post(
        reverse(f"admin:catalog_{model}_import"),
        {
            "resource": "0",
            "format": str(fmt),
            "import_file": SimpleUploadedFile(name, content),
        },
    )


def confirm(client, model, preview):
    form = preview.context["confirm_form"]
    return client.post(reverse(f"admin:catalog_{model}_process_import"), {**form.initial, "resource": "0"})


def test_categories_by_path_preview_then_confirm(staff_client, catalog):
    csv = b'path,description,attributes\nElectronics/Phones/Cases,Covers,\nGarden,,{"season": "summer"}\n'
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
    response = staff_client.post(
        reverse("admin:catalog_sku_export"),
        {
            "format": str(fmt),
            "resource": "0",
            **{f"skuresource_{f}": "on" for f in ("sku_code", "category_path", "product", "price", "attributes")},
        },
    )
    assert response.status_code == 200
    if check == "csv":
        text = response.content.decode()
        assert text.splitlines()[0] == "sku_code,category_path,product,price,attributes"
        assert "PHONE-X-RED,Electronics/Phones,Phone X,499.00" in text
    else:
        rows = list(load_workbook(io.BytesIO(response.content)).active.values)
        assert rows[0] == ("sku_code", "category_path", "product", "price", "attributes")
        assert len(rows) == 3


# --- issue 10: the admin import goes through the services; exports carry no formulas ---------

SKU_HEADER = b"sku_code,category_path,product,price,attributes\n"


def _preview_refuses(client, model, content: bytes, *, says: str, name="data.csv", fmt=0):
    before = fingerprint()
    preview = upload(client, model, content, name=name, fmt=fmt)
    assert preview.status_code == 200
    assert preview.context.get("confirm_form") is None
    assert says in html.unescape(preview.content.decode())
    assert fingerprint() == before


@pytest.mark.parametrize(
    "row,says",
    [
        (b"HAS SPACE,Electronics/Phones,Phone X,1.00,", "must be 1-50 characters"),
        (b"A/B,Electronics/Phones,Phone X,1.00,", "must be 1-50 characters"),
        ("CAFÉ,Electronics/Phones,Phone X,1.00,".encode(), "must be 1-50 characters"),
        (b",Electronics/Phones,Phone X,1.00,", "sku_code '' must be 1-50 characters"),
        (b"NEW-1,Electronics/Phones,Phone X,1.005,", "price '1.005' has more than 2 decimal places"),
        (b"NEW-1,Electronics/Phones,Phone X,-1,", "price '-1' is not between 0 and 99999999.99"),
        (b"NEW-1,Electronics/Phones,Phone X,100000000,", "is not between 0 and 99999999.99"),
        (b"NEW-1,Electronics/Phones,Phone X," + b"9" * 5001 + b",", "is not between 0 and 99999999.99"),
        (b'NEW-1,Electronics/Phones,Phone X,1.00,"{""n"": ' + b"9" * 5001 + b'}"', "Not valid JSON: a number too long"),
    ],
)
def test_sku_import_rows_break_the_services_rules(staff_client, catalog, row, says):
    _preview_refuses(staff_client, "sku", SKU_HEADER + row + b"\n", says=says)


def test_sku_import_error_is_not_sql(staff_client, catalog):
    preview = upload(staff_client, "sku", SKU_HEADER + b"NEW-1,Electronics/Phones,Phone X,-5,\n")
    body = preview.content.decode()
    assert "violates check constraint" not in body and "IntegrityError" not in body


def test_sku_import_with_an_empty_code_moves_nothing(staff_client, catalog):
    """An empty code names no SKU: never the one (if any) whose code is empty."""
    other = Product.objects.create(name="Other", slug="other", category=catalog["phones"])
    _preview_refuses(staff_client, "sku", SKU_HEADER + b",Electronics/Phones,Other,1.00,\n", says="sku_code ''")
    assert not SKU.objects.filter(product=other).exists()


def test_the_database_refuses_an_empty_or_malformed_code(catalog):
    from django.db import IntegrityError, transaction

    for code in ("", "HAS SPACE", "TRAILING\n"):
        with pytest.raises(IntegrityError, match="sku_code_format"), transaction.atomic():
            SKU.objects.filter(pk=catalog["red"].pk).update(sku_code=code)


def test_product_and_category_import_rows_break_the_services_rules(staff_client, catalog):
    _preview_refuses(
        staff_client,
        "product",
        b"category_path,name,description,attributes\nElectronics/Phones,Bad\x07name,,\n",
        says="must not contain control characters",
    )
    _preview_refuses(
        staff_client,
        "category",
        b"path,description,attributes\nElectronics/Bad\x1bname,,\n",
        says="must not contain control characters",
    )


def test_xlsx_import_of_a_bad_price_is_a_row_error(staff_client, catalog):
    book = Workbook()
    book.active.append(["sku_code", "category_path", "product", "price", "attributes"])
    book.active.append(["NEW-1", "Electronics/Phones", "Phone X", 1.005, ""])
    data = io.BytesIO()
    book.save(data)
    _preview_refuses(
        staff_client, "sku", data.getvalue(), name="s.xlsx", fmt=1, says="price '1.005' has more than 2 decimal places"
    )


@pytest.mark.parametrize("model", ["sku", "product", "category"])
@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "tmpmadeup", ""])
def test_confirm_with_a_made_up_file_name_sends_back_to_the_upload(staff_client, catalog, model, name):
    before = fingerprint()
    response = staff_client.post(
        reverse(f"admin:catalog_{model}_process_import"),
        {
            "import_file_name": name,
            "original_file_name": "x.csv",
            "format": "0",
            "resource": "0",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(f"admin:catalog_{model}_import")
    page = staff_client.get(response["Location"])
    assert "The file to import is gone" in page.content.decode()
    assert fingerprint() == before


FORMULAS = ["=1+2", "@SUM(A1)", "+1", "-1", "'=quoted", "'plain"]


def _catalog_with_formula_names(catalog):
    for i, name in enumerate(FORMULAS):
        product = services.product_create(name=name, category_id=catalog["phones"].pk)
        services.sku_create(sku_code=f"F-{i}", product_id=product.pk, price=Decimal("1.00"))


def _export(client, model, fmt, fields):
    response = client.post(
        reverse(f"admin:catalog_{model}_export"),
        {
            "format": str(fmt),
            "resource": "0",
            **{f"{model}resource_{f}": "on" for f in fields},
        },
    )
    assert response.status_code == 200
    return response.content


def test_xlsx_export_writes_formula_like_names_as_text(staff_client, catalog):
    _catalog_with_formula_names(catalog)
    content = _export(staff_client, "product", 1, ("category_path", "name", "description", "attributes"))
    cells = [cell for row in load_workbook(io.BytesIO(content)).active.iter_rows() for cell in row]
    names = {cell.value: cell.data_type for cell in cells if cell.value in FORMULAS}
    assert names == {name: "s" for name in FORMULAS}  # text cells, not formulas ("f")


def test_csv_export_escapes_formulas_and_imports_back_exactly(staff_client, catalog):
    _catalog_with_formula_names(catalog)
    content = _export(staff_client, "sku", 0, ("sku_code", "category_path", "product", "price", "attributes"))
    rows = list(csv_module.reader(io.StringIO(content.decode())))
    assert ["F-0", "Electronics/Phones", "'=1+2", "1.00", "{}"] in rows
    assert ["F-1", "Electronics/Phones", "'@SUM(A1)", "1.00", "{}"] in rows
    assert ["F-4", "Electronics/Phones", "''=quoted", "1.00", "{}"] in rows
    assert ["F-5", "Electronics/Phones", "''plain", "1.00", "{}"] in rows
    # Reading the file back: every row matches its SKU's product by the original name, and
    # changes nothing (the preview says "Unchanged", not "Update").
    preview = upload(staff_client, "sku", content)
    result = preview.context["result"]
    assert not result.has_validation_errors() and not result.has_errors()
    assert (result.totals["update"], result.totals["skip"]) == (0, len(FORMULAS) + 2)


def test_product_csv_action_escapes_formulas(staff_client, catalog):
    _catalog_with_formula_names(catalog)
    ids = list(Product.objects.values_list("pk", flat=True))
    response = staff_client.post(
        reverse("admin:catalog_product_changelist"),
        {
            "action": "export_csv",
            "_selected_action": ids,
        },
    )
    names = [row[1] for row in csv_module.reader(io.StringIO(response.content.decode()))]
    assert "'=1+2" in names and "'@SUM(A1)" in names and "=1+2" not in names


def test_row_errors_are_written_out_in_their_row(staff_client, catalog):
    """Each bad row carries its errors as text in the row (no hover box, no Python dicts)."""
    csv = (
        b"sku_code,category_path,product,price,attributes\n"
        b"PHONE-X-GOLD,Electronics/Phones,Phone X,not-a-price,\n"
        b"PHONE-X-RED,Electronics/Phones,Nope,450.00,\n"
    )
    body = upload(staff_client, "sku", csv).content.decode()
    assert "validation-error-container" not in body
    rows = body.split('class="row-errors"')[1:]
    assert len(rows) == 2
    assert "price &#x27;not-a-price&#x27; is not a price like 19.90.</li>" in rows[0]
    assert "No active product &#x27;Nope&#x27; in Electronics/Phones." in rows[1]
    assert "{" not in body.split("Some rows failed to validate")[1].split("</table>")[0]


@pytest.mark.parametrize(
    "model, header",
    [
        ("category", "path,description,attributes"),
        ("product", "category_path,name,description,attributes"),
        ("sku", "sku_code,category_path,product,price,attributes,backorder_policy"),
    ],
)
def test_import_screen_has_csv_chosen_and_a_template(staff_client, catalog, model, header):
    page = staff_client.get(reverse(f"admin:catalog_{model}_import"))
    assert page.context["form"]["format"].value() == "0"
    assert '<option value="0" selected>csv</option>' in page.content.decode()
    url = reverse(f"admin:catalog_{model}_import_template")
    assert url in page.content.decode()
    template = staff_client.get(url)
    assert template["Content-Type"].startswith("text/csv")
    assert template.content.decode().strip() == header


def test_the_template_needs_the_import_permission(client, catalog):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_sku"))
    client.force_login(viewer)
    assert client.get(reverse("admin:catalog_sku_import_template")).status_code == 403


def test_product_export_with_skus_and_prices_loads_back_with_import_catalog(staff_client, catalog, tmp_path):
    from django.core.management import call_command

    response = staff_client.post(
        reverse("admin:catalog_product_export"),
        {
            "resource": "1",
            "format": "0",
            **{
                f"productskuexportresource_{name}": "on"
                for name in (
                    "category_path",
                    "product_name",
                    "product_description",
                    "product_attributes",
                    "sku_code",
                    "price",
                    "attributes",
                )
            },
        },
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    rows = list(csv_module.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["category_path"], r["product_name"], r["sku_code"], r["price"]) for r in rows] == [
        ("Electronics/Phones", "Phone X", "PHONE-X-BLUE", "499.00"),
        ("Electronics/Phones", "Phone X", "PHONE-X-RED", "499.00"),
    ]
    assert rows[1]["attributes"] == '{"color": "red"}'
    sheet = tmp_path / "products.csv"
    sheet.write_text(response.content.decode("utf-8-sig"))
    before = fingerprint()
    call_command("import_catalog", str(sheet), verbosity=0)
    assert fingerprint() == before  # the export is the catalog as stored: nothing to change


def test_sku_import_sets_the_backorder_policy_and_refuses_an_unknown_one(staff_client, catalog):
    csv = (
        b"sku_code,category_path,product,price,attributes,backorder_policy\n"
        b"PHONE-X-RED,Electronics/Phones,Phone X,499.00,,allow_incoming\n"
    )
    confirm(staff_client, "sku", upload(staff_client, "sku", csv))
    assert SKU.objects.get(pk=catalog["red"].pk).backorder_policy == "allow_incoming"
    # A file without the column keeps the policy.
    csv = b"sku_code,category_path,product,price,attributes\nPHONE-X-RED,Electronics/Phones,Phone X,450.00,\n"
    confirm(staff_client, "sku", upload(staff_client, "sku", csv))
    assert SKU.objects.get(pk=catalog["red"].pk).backorder_policy == "allow_incoming"
    _preview_refuses(
        staff_client,
        "sku",
        b"sku_code,category_path,product,price,attributes,backorder_policy\n"
        b"PHONE-X-RED,Electronics/Phones,Phone X,499.00,,maybe\n",
        says="is not one of deny, allow_incoming",
    )
    assert SKU.objects.get(pk=catalog["red"].pk).backorder_policy == "allow_incoming"
