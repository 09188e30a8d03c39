"""One rule, one place: every bad value is refused by every face that can write it.

`BAD` is one table of bad values; `FACES` is every way a user writes to the catalog or
the stock counts (API create and update, admin change form, admin inline, admin import as
CSV and XLSX, `import_catalog`, history revert, `import_stock_count`). Each (value, face)
pair must be refused with a message naming the problem, in the words the user reads, and
write nothing: a digest of every catalog, stock and token table (history included) is the
same before and after.

A new face is one more entry of `FACES`; a new rule, one more row of `BAD`.
"""

import csv
import html
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook

from catalog import services
from stock.services import stock_receive
from tests.conftest import token_client
from tests.factories import UserFactory
from tests.reliability.world import fingerprint

# Inside the test's transaction, for speed: that a view runs its writes in a transaction of
# its own (the history revert did not) is shown by the transactional `TestHistoryRevert`.
pytestmark = [pytest.mark.django_db]

FIVE_THOUSAND_AND_ONE_DIGITS = "9" * 5001
CODE_RULE = ("must be 1-50 characters of A-Z, a-z, 0-9, '.', '_' and '-'", "at most 50 characters")
# The admin's change forms read a price as the column holds it (10 digits, 2 places) and say
# so in Django's words; every other face shows the rule's own message.
PLACES = ("has more than 2 decimal places", "no more than 2 decimal places")
RANGE = (
    "is not between 0 and 99999999.99",
    "no more than 8 digits before the decimal point",
    "no more than 10 digits in total",
)
CONTROL = ("must not contain control characters",)
BLANK = ("must not be empty or whitespace only", "this field is required")


@dataclass(frozen=True)
class Bad:
    """A value that `field` of `entity` must refuse, and what the user is told (any of `says`)."""

    entity: str  # sku, product, category or count
    field: str
    value: str
    says: tuple[str, ...]

    def __str__(self) -> str:
        shown = self.value if len(self.value) < 20 else f"{self.value[:8]}...{len(self.value)}"
        return f"{self.entity}.{self.field}={shown!r}"


BAD = [
    Bad("sku", "sku_code", "HAS SPACE", CODE_RULE),
    Bad("sku", "sku_code", "A/B", CODE_RULE),
    Bad("sku", "sku_code", "CAFÉ-1", CODE_RULE),
    Bad("sku", "sku_code", "", CODE_RULE + ("this field is required",)),
    Bad("sku", "sku_code", "X" * 51, CODE_RULE),
    Bad("sku", "price", "1.005", PLACES),
    Bad("sku", "price", "0.001", PLACES),
    Bad("sku", "price", "-1", RANGE),
    Bad("sku", "price", "-0.01", RANGE),
    Bad("sku", "price", "100000000", RANGE),
    Bad("sku", "price", FIVE_THOUSAND_AND_ONE_DIGITS, RANGE),
    Bad("sku", "price", "abc", ("is not a price like 19.90", "enter a number")),
    Bad("sku", "price", "NaN", ("is not a price like 19.90", "enter a number")),
    Bad("product", "name", "Bad\x7fname", CONTROL),
    Bad("product", "name", "Bell\x07", CONTROL),
    Bad("product", "name", "   ", BLANK),
    Bad("product", "name", "P" * 151, ("at most 150 characters",)),
    Bad("category", "name", "Bad\x7fname", CONTROL),
    Bad("category", "name", "Bell\x07", CONTROL),
    Bad("category", "name", "Left/Right", ("must not contain '/'",)),
    Bad("category", "name", "C" * 101, ("at most 100 characters",)),
    Bad("count", "counted", "-1", ("is not a whole number between 0 and 2147483647",)),
    Bad("count", "counted", "2147483648", ("is not a whole number between 0 and 2147483647",)),
    Bad("count", "counted", FIVE_THOUSAND_AND_ONE_DIGITS, ("is not a whole number between 0 and 2147483647",)),
    Bad("count", "counted", "many", ("is not a whole number between 0 and 2147483647",)),
    Bad("count", "counted", "1.5", ("is not a whole number between 0 and 2147483647",)),
]


@dataclass
class World:
    """A small catalog written through the services (so it has history), and the clients."""

    api: object
    admin: object
    category: object
    product: object
    sku: object
    tmp_path: object


@pytest.fixture
def world(db, client, tmp_path) -> World:
    user = UserFactory(username="merchandiser", is_superuser=True, is_staff=True)
    client.force_login(user)
    electronics = services.category_create(name="Electronics")
    phones = services.category_create(name="Phones", parent_id=electronics.pk)
    product = services.product_create(name="Phone X", category_id=phones.pk)
    sku = services.sku_create(sku_code="PHONE-X-RED", product_id=product.pk, price=Decimal("499.00"))
    stock_receive(sku=sku, quantity=5, reference="PO-1")
    return World(api=token_client(user), admin=client, category=phones, product=product, sku=sku, tmp_path=tmp_path)


def _text(response) -> str:
    """What the user reads of an admin page's errors: error lists and messages, entities decoded."""
    page = response.content.decode()
    errors = re.findall(
        r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>|<li class="error">(.*?)</li>'
        r'|<td colspan="\d+"[^>]*class="[^"]*errors[^"]*"[^>]*>(.*?)</td>'
        r'|<div class="[^"]*(?:errors|validation-error)[^"]*"[^>]*>(.*?)</div>',
        page,
        re.S,
    )
    text = " ".join(part for found in errors for part in found if part)
    return html.unescape(re.sub(r"<[^>]+>", " ", text)) or html.unescape(page)


def _api_body(entity: str, world: World, field: str, value: str) -> tuple[str, dict]:
    if entity == "sku":
        body = {"sku_code": "NEW-1", "product_id": world.product.pk, "price": "1.00", field: value}
        return "skus", body
    if entity == "product":
        return "products", {"name": "New", "category_id": world.category.pk, field: value}
    return "categories", {"name": "New", "parent_id": world.category.pk, field: value}


def _api_answer(response) -> str:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    return body["message"] + " " + json.dumps(body["errors"], ensure_ascii=False)


def api_create(world: World, bad: Bad) -> str | None:
    if bad.entity == "count":
        return None
    route, body = _api_body(bad.entity, world, bad.field, bad.value)
    return _api_answer(world.api.post(f"/api/v1/{route}/", body, format="json"))


def api_update(world: World, bad: Bad) -> str | None:
    if bad.entity == "count":
        return None
    route, obj = {
        "sku": ("skus", world.sku),
        "product": ("products", world.product),
        "category": ("categories", world.category),
    }[bad.entity]
    return _api_answer(world.api.patch(f"/api/v1/{route}/{obj.pk}/", {bad.field: bad.value}, format="json"))


def _form_data(entity: str, world: World) -> tuple[object, dict]:
    if entity == "sku":
        sku = world.sku
        return sku, {
            "sku_code": sku.sku_code,
            "product": sku.product_id,
            "price": str(sku.price),
            "attributes": "{}",
            "expected_version": sku.version,
        }
    if entity == "product":
        product = world.product
        return product, {
            "name": product.name,
            "category": product.category_id,
            "description": "",
            "attributes": "{}",
            "expected_version": product.version,
        }
    category = world.category
    return category, {
        "name": category.name,
        "parent": category.parent_id,
        "description": "",
        "attributes": "{}",
        "expected_version": category.version,
    }


def _refused_form(response) -> str:
    assert response.status_code == 200, response.status_code  # the form again, not a redirect
    assert "errorlist" in response.content.decode()
    return _text(response)


def admin_change_form(world: World, bad: Bad) -> str | None:
    if bad.entity == "count" or "\x00" in bad.value:
        return None
    obj, data = _form_data(bad.entity, world)
    url = reverse(f"admin:catalog_{bad.entity}_change", args=[obj.pk])
    return _refused_form(world.admin.post(url, {**data, bad.field: bad.value}))


def admin_inline(world: World, bad: Bad) -> str | None:
    """A new SKU row in the product's variant grid (a code and a price; attributes are cells there)."""
    grid_field = {"sku_code": "code", "price": "price"}.get(bad.field)
    if bad.entity != "sku" or grid_field is None:
        return None
    product = world.product
    _, data = _form_data("product", world)
    row = {"code": "NEW-1", "price": "1.00", "status": "active", "backorder_policy": "deny", grid_field: bad.value}
    data.update({"new_rows": 1, "attr_columns": 0, **{f"n-0-{k}": v for k, v in row.items()}})
    return _refused_form(world.admin.post(reverse("admin:catalog_product_change", args=[product.pk]), data))


def history_revert(world: World, bad: Bad) -> str | None:
    """The revert form of the object's first recorded version (django-simple-history)."""
    if bad.entity == "count":
        return None
    obj, data = _form_data(bad.entity, world)
    first = obj.history.order_by("history_id").first()
    url = reverse(f"admin:catalog_{bad.entity}_simple_history", args=[obj.pk, first.history_id])
    return _refused_form(world.admin.post(url, {**data, bad.field: bad.value}))


def _import_rows(bad: Bad, world: World) -> tuple[list[str], list[list[str]]] | None:
    """The admin import sheet (header, rows) carrying the bad value, or None if it cannot."""
    if bad.entity == "sku":
        row = {
            "sku_code": "NEW-1",
            "category_path": "Electronics/Phones",
            "product": "Phone X",
            "price": "1.00",
            "attributes": "",
            bad.field: bad.value,
        }
    elif bad.entity == "product":
        row = {"category_path": "Electronics/Phones", "name": bad.value, "description": "", "attributes": ""}
    elif bad.entity == "category" and "/" not in bad.value:  # '/' separates the names of a path
        row = {"path": f"Electronics/{bad.value}", "description": "", "attributes": ""}
    else:
        return None
    return list(row), [list(row.values())]


def _admin_import(world: World, bad: Bad, content: bytes, name: str, fmt: int) -> str:
    response = world.admin.post(
        reverse(f"admin:catalog_{bad.entity}_import"),
        {
            "resource": "0",
            "format": str(fmt),
            "import_file": SimpleUploadedFile(name, content),
        },
    )
    assert response.status_code == 200
    assert response.context.get("confirm_form") is None  # nothing to confirm: the row is refused
    assert response.context["result"].has_validation_errors() or response.context["result"].has_errors()
    return _text(response)


def admin_import_csv(world: World, bad: Bad) -> str | None:
    sheet = _import_rows(bad, world)
    if sheet is None:
        return None
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(sheet[0])
    writer.writerows(sheet[1])
    return _admin_import(world, bad, out.getvalue().encode(), "rows.csv", 0)


def admin_import_xlsx(world: World, bad: Bad) -> str | None:
    sheet = _import_rows(bad, world)
    if sheet is None or "\x07" in bad.value:  # XLSX cannot hold C0 control characters at all
        return None
    book = Workbook()
    book.active.append(sheet[0])
    for row in sheet[1]:
        book.active.append(row)
    for row in book.active.iter_rows():
        for cell in row:
            cell.data_type = "s"  # text, as typed into a text cell
    stream = io.BytesIO()
    book.save(stream)
    return _admin_import(world, bad, stream.getvalue(), "rows.xlsx", 1)


def import_catalog(world: World, bad: Bad) -> str | None:
    row = {"category_path": "Electronics/Phones", "product_name": "Phone X", "sku_code": "NEW-1", "price": "1.00"}
    if bad.entity == "sku":
        if bad.field == "sku_code" and not bad.value:
            return None  # an empty code is a product-only row of the import format
        row[bad.field] = bad.value
    elif bad.entity == "product":
        row["product_name"] = bad.value
    elif bad.entity == "category" and "/" not in bad.value:
        row["category_path"] = f"Electronics/{bad.value}"
    else:
        return None
    if not row["product_name"].strip():
        return None  # whitespace only is an empty cell: a category-only row
    out = io.StringIO()
    csv.writer(out).writerows([list(row), list(row.values())])
    path = world.tmp_path / "catalog.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("import_catalog", str(path), stdout=io.StringIO(), stderr=err)
    return f"{refused.value} {err.getvalue()}"


def import_stock_count(world: World, bad: Bad) -> str | None:
    if bad.entity != "count":
        return None
    path = world.tmp_path / "count.csv"
    path.write_text(f"sku_code,counted\n{world.sku.sku_code},{bad.value}\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("import_stock_count", str(path), stdout=io.StringIO(), stderr=err)
    return f"{refused.value} {err.getvalue()}"


FACES: dict[str, Callable[[World, Bad], str | None]] = {
    "api create": api_create,
    "api update": api_update,
    "admin change form": admin_change_form,
    "admin inline": admin_inline,
    "admin import csv": admin_import_csv,
    "admin import xlsx": admin_import_xlsx,
    "import_catalog": import_catalog,
    "history revert": history_revert,
    "import_stock_count": import_stock_count,
}


@pytest.mark.parametrize("bad", BAD, ids=str)
def test_every_face_refuses_the_bad_value_and_writes_nothing(world, bad):
    tried = []
    for name, face in FACES.items():
        before = fingerprint()
        told = face(world, bad)
        if told is None:
            continue  # this face cannot carry that value
        tried.append(name)
        assert fingerprint() == before, f"{name} wrote something for {bad}"
        assert any(says.lower() in told.lower() for says in bad.says), f"{name} did not say why: {told[:3000]}"
    assert tried, f"no face tried {bad}"
