"""Bulk faces write their events in the same transaction: catalog import (COPY), demo data,
stock counts (command and admin upload), the admin's django-import-export import."""

import html as html_lib
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from catalog.models import SKU, Category, Product
from events.models import Event
from stock.models import StockLevel, StockMovement, Warehouse
from stock.services import stock_receive
from tests.catalog.factories import SKUFactory

HEADER = "category_path,product_name,product_description,sku_code,price,attributes\n"


def _last_id() -> int:
    return Event.objects.order_by("-id").values_list("pk", flat=True).first() or 0


def _since(last: int) -> list[Event]:
    return list(Event.objects.filter(pk__gt=last).order_by("id"))


def _write(tmp_path: Path, text: str, name: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def main(db) -> Warehouse:
    warehouse, _ = Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main", "is_default": True})
    return warehouse


def test_import_catalog_writes_one_event_per_object_in_order(db, tmp_path):
    sheet = _write(
        tmp_path,
        HEADER
        + (
            "Clothing/Men,Basic Tee,Cotton,TEE-M,19.99,\n"
            'Clothing/Men,Basic Tee,Cotton,TEE-L,21.50,"{""size"": ""L""}"\n'
        ),
        "catalog.csv",
    )
    last = _last_id()

    call_command("import_catalog", sheet, stdout=None)

    events = _since(last)
    assert [e.type for e in events] == [
        "catalog.category.created",
        "catalog.category.created",
        "catalog.product.created",
        "catalog.sku.created",
        "catalog.sku.created",
    ]
    tee_l = SKU.objects.get(sku_code="TEE-L")
    [sku_event] = [e for e in events if e.sku_code == "TEE-L"]  # SKUs are written in code order
    assert (sku_event.aggregate, sku_event.sku_code) == (f"sku:{tee_l.pk}", "TEE-L")
    assert sku_event.data["price"] == "21.50" and sku_event.data["attributes"] == {"size": "L"}
    assert sku_event.data["product_id"] == Product.objects.get(name="Basic Tee").pk
    assert events[1].data["path"] == "Clothing/Men"
    assert events[1].data["parent_id"] == Category.objects.get(path="Clothing").pk
    assert all(e.envelope()["created_at"].endswith("Z") for e in events)

    # Again with one price changed: one `updated` event, nothing for the unchanged rows.
    sheet = _write(
        tmp_path,
        HEADER
        + (
            "Clothing/Men,Basic Tee,Cotton,TEE-M,19.99,\n"
            'Clothing/Men,Basic Tee,Cotton,TEE-L,25.00,"{""size"": ""L""}"\n'
        ),
        "again.csv",
    )
    last = _last_id()
    call_command("import_catalog", sheet, stdout=None)
    [updated] = _since(last)
    assert (updated.type, updated.sku_code, updated.data["price"], updated.data["version"]) == (
        "catalog.sku.updated",
        "TEE-L",
        "25.00",
        2,
    )


def test_import_catalog_dry_run_and_refused_files_write_no_events(db, tmp_path):
    last = _last_id()
    good = _write(tmp_path, HEADER + "Garden,Hose,,HOSE-1,9.99,\n", "good.csv")
    call_command("import_catalog", good, "--dry-run", stdout=None)
    bad = _write(tmp_path, HEADER + "Garden,Hose,,HOSE-1,9.99,\nGarden,Rake,,RAKE-1,not-a-price,\n", "bad.csv")
    with pytest.raises(CommandError):
        call_command("import_catalog", bad, stdout=None, stderr=None)
    assert _since(last) == []
    assert not SKU.objects.filter(sku_code="HOSE-1").exists()


def test_load_demo_data_writes_events_for_all_it_creates(db, main):
    last = _last_id()

    call_command("load_demo_data", "--skus", "30", stdout=None)

    events = _since(last)
    types = [e.type for e in events]
    assert types.count("catalog.category.created") == Category.objects.count()
    assert types.count("catalog.product.created") == Product.objects.count()
    assert types.count("catalog.sku.created") == SKU.objects.count() == 30
    levels = StockLevel.objects.count()
    # One change per opening level plus one per reservation line; each first receipt is back in stock.
    receipts = [e for e in events if e.type == "stock.level.changed" and e.data["cause"].get("movement_id")]
    assert len(receipts) == levels
    assert types.count("stock.back_in_stock") == levels
    movement = StockMovement.objects.get(pk=receipts[0].data["cause"]["movement_id"])
    assert (movement.sku.sku_code, movement.delta) == (receipts[0].sku_code, receipts[0].data["on_hand"])
    assert receipts[0].data["reason"] == "receipt" and receipts[0].reference.startswith("PO-DEMO-")
    assert types.count("reservation.created") >= 2  # through the reservation service
    # Catalog first (parents before children), then stock.
    first_stock = types.index("stock.level.changed")
    assert all(t.startswith("catalog.") for t in types[:first_stock])


@pytest.fixture
def counted(main):
    sku = SKUFactory(sku_code="CNT-1")
    stock_receive(sku=sku, quantity=10)
    return sku


def test_import_stock_count_emits_level_changes_caused_by_the_count_movements(counted, tmp_path):
    sheet = _write(tmp_path, "sku_code,counted\nCNT-1,7\n", "count.csv")
    last = _last_id()

    call_command("import_stock_count", sheet, "--reference", "CC-9", stdout=None)

    [changed] = _since(last)
    movement = StockMovement.objects.get(reference="CC-9")
    assert changed.type == "stock.level.changed"
    assert (changed.data["on_hand"], changed.data["cause"], changed.data["reason"]) == (
        7,
        {"movement_id": movement.pk},
        "count",
    )
    bad = _write(tmp_path, "sku_code,counted\nCNT-1,3\nNOPE,1\n", "bad.csv")
    last = _last_id()
    with pytest.raises(CommandError):
        call_command("import_stock_count", bad, stdout=None, stderr=None)
    assert _since(last) == []


def test_admin_count_upload_emits_on_confirm_only(admin_client, counted):
    upload = reverse("admin:stock_stocklevel_upload")
    last = _last_id()
    preview = admin_client.post(
        upload,
        {
            "kind": "count",
            "reason": "receipt",
            "reference": "CC-ADM",
            "sheet": SimpleUploadedFile("count.csv", b"sku_code,counted\nCNT-1,0\n"),
        },
    )
    assert preview.status_code == 200 and _since(last) == []  # a preview writes nothing
    page = preview.content.decode()
    fields = {
        k: html_lib.unescape(v) for k, v in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)
    }
    admin_client.post(upload, {**fields, "_confirm": "1"}, follow=True)
    assert [e.type for e in _since(last)] == ["stock.level.changed", "stock.low", "stock.out"]


def test_admin_import_export_import_emits_through_the_services(admin_client, counted):
    product = counted.product
    sheet = (
        f"sku_code,category_path,product,price,attributes\nNEW-1,{product.category.path},{product.name},5.00,\n"
    ).encode()
    preview = admin_client.post(
        reverse("admin:catalog_sku_import"),
        {"resource": "0", "format": "0", "import_file": SimpleUploadedFile("skus.csv", sheet)},
    )
    last = _last_id()
    form = preview.context["confirm_form"]
    admin_client.post(reverse("admin:catalog_sku_process_import"), {**form.initial, "resource": "0"})
    [created] = _since(last)
    assert (created.type, created.sku_code) == ("catalog.sku.created", "NEW-1")
