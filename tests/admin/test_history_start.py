"""History that starts at the start: rows written in bulk (the demo loader, `import_catalog`) and
by the admin import have their initial record, so the first edit shows what changed and a revert
brings the original values back; "Change reason" never reads "None"."""

import json
import re
from decimal import Decimal
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from catalog.models import SKU, Category, Product

pytestmark = pytest.mark.django_db


def history_text(client, obj) -> str:
    """The admin history page of `obj` as a user reads it (tags gone, spaces collapsed)."""
    response = client.get(reverse(f"admin:catalog_{obj._meta.model_name}_history", args=[obj.pk]))
    assert response.status_code == 200
    table = response.content.decode().split('id="change-history"', 1)[1].split("</table>", 1)[0]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", table)))


def sku_form(sku: SKU, **changes) -> dict:
    data = {
        "sku_code": sku.sku_code,
        "product": sku.product_id,
        "price": str(sku.price),
        "attributes": json.dumps(sku.attributes),
        "expected_version": sku.version,
    }
    return {**data, **changes}


def edit_then_revert(client, sku: SKU, new_price: str, reason: str) -> None:
    original = sku.price
    first = sku.history.get()
    assert (first.history_type, first.history_change_reason, first.price) == ("+", reason, original)

    response = client.post(reverse("admin:catalog_sku_change", args=[sku.pk]), sku_form(sku, price=new_price))
    assert response.status_code == 302
    page = history_text(client, sku)
    assert f"Price: {original} → {new_price}" in page
    assert reason in page and "None" not in page

    sku.refresh_from_db()
    revert_url = reverse("admin:catalog_sku_simple_history", args=[sku.pk, first.history_id])
    assert f'value="{original}"' in client.get(revert_url).content.decode()
    response = client.post(revert_url, sku_form(sku, price=str(first.price), attributes=json.dumps(first.attributes)))
    assert response.status_code == 302
    sku.refresh_from_db()
    assert (sku.price, sku.version) == (original, 3)
    assert f"Price: {new_price} → {original}" in history_text(client, sku)


def test_demo_rows_have_their_initial_record_and_the_first_edit_reverts(staff_client, main_warehouse):
    call_command("load_demo_data", skus=30, seed=5, verbosity=0)
    reason = "Demo data (load_demo_data)"
    for model in (Category, Product, SKU):
        stored = model.all_objects.count()
        assert model.history.filter(history_type="+", history_change_reason=reason).count() == stored
        assert model.history.values("id").distinct().count() == stored  # one each, no more
    product = Product.objects.first()
    first = product.history.get()
    assert (first.name, first.category_id, first.attributes) == (product.name, product.category_id, product.attributes)
    category = Category.objects.filter(level=2).first()
    assert category.history.get().path == category.path

    sku = SKU.objects.order_by("pk").first()
    edit_then_revert(staff_client, sku, str(sku.price + Decimal("1.50")), reason)


def test_import_catalog_records_created_and_changed_rows(staff_client, tmp_path):
    sheet = tmp_path / "catalog.csv"
    sheet.write_text(
        "category_path,product_name,sku_code,price,attributes\n"
        'Garden/Tools,Spade,SPADE-1,12.50,"{""size"": ""L""}"\n'
        "Garden/Tools,Spade,SPADE-2,13.00,\n"
    )
    call_command("import_catalog", str(sheet), verbosity=0)
    reason = "Catalog import"
    assert Category.history.filter(history_type="+", history_change_reason=reason).count() == 2
    assert Product.history.filter(history_type="+", history_change_reason=reason).count() == 1
    spade = SKU.objects.get(sku_code="SPADE-1")
    assert spade.history.get().attributes == {"size": "L"}

    sheet.write_text("category_path,product_name,sku_code,price\nGarden/Tools,Spade,SPADE-2,14.00\n")
    call_command("import_catalog", str(sheet), verbosity=0)
    changed = SKU.objects.get(sku_code="SPADE-2")
    latest = changed.history.first()
    assert (latest.history_type, latest.price, latest.version, latest.history_change_reason) == (
        "~",
        Decimal("14.00"),
        2,
        reason,
    )
    assert "Price: 13.00 → 14.00" in history_text(staff_client, changed)

    edit_then_revert(staff_client, spade, "20.00", reason)


def test_a_dry_run_writes_no_history(tmp_path):
    sheet = tmp_path / "catalog.csv"
    sheet.write_text("category_path,product_name,sku_code,price\nGarden,Rake,RAKE-1,9.00\n")
    call_command("import_catalog", str(sheet), "--dry-run", verbosity=0)
    assert not SKU.history.exists() and not Category.history.exists()


def test_admin_import_rows_have_history_without_a_none_reason(staff_client, catalog):
    csv = b"sku_code,category_path,product,price,attributes\nPHONE-X-GREEN,Electronics/Phones,Phone X,499.00,\n"
    preview = staff_client.post(
        reverse("admin:catalog_sku_import"),
        {"resource": "0", "format": "0", "import_file": SimpleUploadedFile("skus.csv", csv)},
    )
    form = preview.context["confirm_form"]
    staff_client.post(reverse("admin:catalog_sku_process_import"), {**form.initial, "resource": "0"})
    green = SKU.objects.get(sku_code="PHONE-X-GREEN")
    assert green.history.get().history_type == "+"
    response = staff_client.post(reverse("admin:catalog_sku_change", args=[green.pk]), sku_form(green, price="450.00"))
    assert response.status_code == 302
    page = history_text(staff_client, green)
    assert "Price: 499.00 → 450.00" in page and "None" not in page
