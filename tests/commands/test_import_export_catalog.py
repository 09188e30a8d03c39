"""import_catalog and export_catalog: upserts, all-or-nothing checks with line numbers, round trips."""

import csv
import io
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from catalog.models import SKU, Category, Product
from catalog.services import category_soft_delete, sku_soft_delete
from tests.catalog.factories import CategoryFactory, ProductFactory, SKUFactory
from tests.commands.conftest import assert_tree_sound

HEADER = "category_path,product_name,product_description,sku_code,price,attributes\n"


def write(tmp_path: Path, text: str, name: str = "catalog.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def sheet(tmp_path) -> str:
    return write(
        tmp_path,
        HEADER
        + (
            'Clothing/Men/T-Shirts,Basic Tee,"Soft, 100% cotton",TEE-RED-M,19.99,'
            '"{""color"": ""red"", ""size"": ""M""}"\n'
            'Clothing/Men/T-Shirts,Basic Tee,"Soft, 100% cotton",TEE-RED-L,19.99,'
            '"{""color"": ""red"", ""size"": ""L""}"\n'
            "Clothing/Women,Summer Dress,,DRESS-1,49.5,\n"
            "Electronics/Audio,Studio Headphones,,HP-1,120,{}\n"
        ),
    )


def test_import_creates_categories_products_and_skus(run, sheet):
    output = run("import_catalog", sheet)

    assert "categories: 6 created, 0 updated, 0 unchanged" in output.out
    assert "products: 3 created" in output.out
    assert "skus: 4 created" in output.out
    assert output.summary.startswith("Imported 4 rows: 13 created, 0 updated, 0 unchanged in ")
    assert sorted(Category.objects.values_list("path", flat=True)) == [
        "Clothing",
        "Clothing/Men",
        "Clothing/Men/T-Shirts",
        "Clothing/Women",
        "Electronics",
        "Electronics/Audio",
    ]
    tee = Product.objects.get(name="Basic Tee")
    assert tee.category.path == "Clothing/Men/T-Shirts"
    assert tee.description == "Soft, 100% cotton"
    assert SKU.objects.get(sku_code="TEE-RED-L").attributes == {"color": "red", "size": "L"}
    assert SKU.objects.get(sku_code="DRESS-1").price == Decimal("49.50")
    assert_tree_sound()


def test_import_twice_changes_nothing(run, sheet):
    run("import_catalog", sheet)
    versions = list(SKU.objects.order_by("pk").values_list("version", flat=True))

    output = run("import_catalog", sheet)

    assert output.summary.startswith("Imported 4 rows: 0 created, 0 updated, 13 unchanged")
    assert list(SKU.objects.order_by("pk").values_list("version", flat=True)) == versions


def test_import_matches_existing_rows_case_insensitively_and_updates(run, tmp_path):
    shirts = CategoryFactory(name="Shirts", parent=CategoryFactory(name="Clothing"))
    product = ProductFactory(name="Oxford Shirt", category=shirts)
    sku = SKUFactory(sku_code="OX-1", product=product, price=Decimal("30.00"))
    path = write(tmp_path, HEADER + "clothing/SHIRTS,oxford shirt,Button-down,ox-1,35.00,\n")

    output = run("import_catalog", path)

    assert "categories: 0 created, 0 updated, 2 unchanged" in output.out
    assert "products: 0 created, 1 updated, 0 unchanged" in output.out
    assert "skus: 0 created, 1 updated, 0 unchanged" in output.out
    sku.refresh_from_db()
    product.refresh_from_db()
    assert (sku.sku_code, sku.price, sku.version) == ("OX-1", Decimal("35.00"), 2)
    assert (product.name, product.description) == ("Oxford Shirt", "Button-down")
    assert Category.objects.count() == 2 and Product.objects.count() == 1


def test_dry_run_counts_and_writes_nothing(run, sheet):
    output = run("import_catalog", sheet, "--dry-run")

    assert output.summary.startswith("Dry run, nothing written: would have imported 4 rows: 13 created")
    assert not Category.all_objects.exists() and not SKU.all_objects.exists()


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(run, tmp_path):
    SKUFactory(sku_code="TAKEN")
    before = (Category.all_objects.count(), Product.all_objects.count(), SKU.all_objects.count())
    path = write(
        tmp_path,
        HEADER
        + (
            "Ok/Fine,Good,,GOOD-1,1.00,\n"
            "Ok/Fine,Good,,BAD CODE,1.00,\n"  # line 3
            'Ok/Fine,Good,"two\nlines",PRICE-1,1.999,\n'  # lines 4-5 (a quoted newline)
            "Ok/Fine,Good,,JSON-1,1.00,[1]\n"  # line 6
            "Ok//Fine,Good,,PATH-1,1.00,\n"  # line 7
            ",Good,,NOCAT-1,-1,\n"  # line 8
            "Ok/Fine,Good,,good-1,2.00,\n"  # line 9: repeats line 2
            "Ok/Fine,,,NOPRODUCT-1,2.00,\n"  # line 10
        ),
    )

    with pytest.raises(CommandError, match="7 invalid row"):
        run("import_catalog", path)

    assert (Category.all_objects.count(), Product.all_objects.count(), SKU.all_objects.count()) == before


def test_bad_rows_go_to_stderr_with_line_numbers(tmp_path, db):
    from io import StringIO

    from django.core.management import call_command

    path = write(
        tmp_path,
        HEADER
        + (
            "Ok/Fine,Good,,GOOD-1,1.00,\n"
            "Ok/Fine,Good,,BAD CODE,1.00,\n"
            'Ok/Fine,Good,"two\nlines",PRICE-1,1.999,\n'
            "Ok/Fine,Good,,JSON-1,1.00,[1]\n"
            "Ok/Fine,Good,,good-1,2.00,\n"
        ),
    )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_catalog", path, stdout=StringIO(), stderr=err)

    lines = err.getvalue().splitlines()
    assert lines[0].startswith("line 3: sku_code 'BAD CODE' must be")
    assert lines[1].startswith("line 4: price '1.999' has more than 2 decimal places")
    assert lines[2].startswith("line 6: attributes [1] must be a JSON object")
    assert lines[3] == "line 7: sku_code 'good-1' repeats line 2"


def test_a_code_held_by_a_deleted_sku_is_refused(run, tmp_path):
    sku_soft_delete(sku_id=SKUFactory(sku_code="GONE-1").pk)
    path = write(tmp_path, HEADER + "A,B,,gone-1,1.00,\n")

    with pytest.raises(CommandError, match="1 invalid row"):
        run("import_catalog", path)

    assert not Category.objects.filter(name="A").exists()


def test_conflicting_product_values_are_refused(run, tmp_path):
    path = write(tmp_path, HEADER + "A,B,first,C-1,1.00,\nA,b,second,C-2,1.00,\n")

    with pytest.raises(CommandError, match="1 invalid row"):
        run("import_catalog", path)


def test_repeated_conflicting_rows_are_each_reported(tmp_path, db):
    """Rows repeating the previous row's cells are skipped by the planner only when that row was fine."""
    from io import StringIO

    from django.core.management import call_command

    header = "category_path,category_description,product_name,product_description,product_attributes,sku_code,price\n"
    path = write(
        tmp_path,
        header
        + (
            'A,one,P,first,"{""a"": 1}",C-1,1.00\n'
            'A,one,P,first,"{""a"": 1}",C-2,1.00\n'  # line 3: the same cells: fine
            'A,two,P,second,"{""a"": 2}",C-3,1.00\n'  # line 4: three conflicts
            'A,two,P,second,"{""a"": 2}",C-4,1.00\n'  # line 5: the same three again
            'A,one,P,first,"{""a"": 1}",C-5,1.00\n'  # line 6: fine again
        ),
    )
    err = StringIO()
    with pytest.raises(CommandError, match="2 invalid row"):
        call_command("import_catalog", path, stdout=StringIO(), stderr=err)

    conflicts = (
        "category_description differs from line 2 for the same category; "
        "product_description differs from line 2 for the same product; "
        "product_attributes differs from line 2 for the same product"
    )
    assert err.getvalue().splitlines() == [f"line 4: {conflicts}", f"line 5: {conflicts}"]


def test_missing_columns_file_and_unknown_extension_are_errors(run, tmp_path):
    with pytest.raises(CommandError, match="missing column"):
        run("import_catalog", write(tmp_path, "category_path,sku_code\nA,B\n"))
    with pytest.raises(CommandError, match="no such file"):
        run("import_catalog", str(tmp_path / "absent.csv"))
    with pytest.raises(CommandError, match="use a .csv or .json file"):
        run("import_catalog", write(tmp_path, "x", name="catalog.txt"))
    with pytest.raises(CommandError, match="not valid JSON"):
        run("import_catalog", write(tmp_path, "[{", name="catalog.json"))


def test_json_import_names_rows(run, tmp_path):
    good = {
        "category_path": "Books/Fiction",
        "product_name": "Novel",
        "sku_code": "NOV-1",
        "price": "9.99",
        "attributes": {"format": "paperback"},
    }
    path = write(tmp_path, json.dumps([good, {**good, "sku_code": "NOV-2", "price": -1}]), name="c.json")

    with pytest.raises(CommandError):
        run("import_catalog", path)
    path = write(tmp_path, json.dumps([good]), name="c.json")
    run("import_catalog", path)

    assert SKU.objects.get(sku_code="NOV-1").attributes == {"format": "paperback"}


@pytest.fixture
def catalog(db):
    """A small catalog with the awkward cases: an empty category, a product without SKUs,
    deleted rows (not exported), unicode, nested attributes."""
    shoes = CategoryFactory(
        name="Schuhe & Stiefel", attributes={"season": {"from": "autumn"}}, description="Alles für die Füße"
    )
    boots = CategoryFactory(name="Boots", parent=shoes)
    CategoryFactory(name="Empty corner", parent=shoes)
    category_soft_delete(category_id=CategoryFactory(name="Gone", parent=shoes).pk)
    boot = ProductFactory(
        name='Wanderstiefel, "Alpin"', category=boots, description="Line one\nline two", attributes={"brand": "Ötzi"}
    )
    SKUFactory(sku_code="alp-42", product=boot, price=Decimal("149.00"), attributes={"size": 42, "tags": ["a", "b"]})
    SKUFactory(sku_code="ALP-41", product=boot, price=Decimal("0.50"))
    sku_soft_delete(sku_id=SKUFactory(sku_code="ALP-OLD", product=boot).pk)
    ProductFactory(name="Insoles", category=boots)
    # COPY's text format escapes these: backslash, tab, CR and LF in text and in JSON.
    odd = ProductFactory(
        name="Back\\slash",
        category=boots,
        description="tab\there\r\nCRLF \\N not null",
        attributes={"path": "C:\\dir\tx", "line": "a\nb"},
    )
    SKUFactory(sku_code="ODD-1", product=odd, price=Decimal("1.00"), attributes={"note": "\\."})


def wipe_catalog() -> None:
    SKU.all_objects.all().delete()
    Product.all_objects.all().delete()
    for category in Category.all_objects.order_by("-level"):
        category.delete()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_import_round_trip_is_byte_equal(run, catalog, tmp_path, fmt):
    first = tmp_path / f"first.{fmt}"
    run("export_catalog", str(first))

    same_db = run("import_catalog", str(first))
    assert "0 created, 0 updated" in same_db.summary

    wipe_catalog()
    fresh = run("import_catalog", str(first))
    assert "0 updated, 0 unchanged" in fresh.summary
    second = tmp_path / f"second.{fmt}"
    run("export_catalog", "--format", fmt, str(second))

    assert second.read_bytes() == first.read_bytes()
    assert "ALP-OLD" not in first.read_text(encoding="utf-8")
    assert_tree_sound()


def test_export_csv_rows(run, catalog):
    output = run("export_catalog")
    lines = output.out.splitlines()

    assert lines[0] == (
        "category_path,category_description,category_attributes,product_name,product_description,"
        "product_attributes,sku_code,price,attributes,backorder_policy"
    )
    assert lines[1] == 'Schuhe & Stiefel,Alles für die Füße,"{""season"":{""from"":""autumn""}}",,,,,,,'
    assert "ALP-41,0.50,{},deny\n" in output.out
    assert ",Insoles,,{},,," in output.out
    assert "Schuhe & Stiefel/Empty corner,,{},,,,,," in output.out
    assert "Exported 6 rows" in output.err


def test_export_rejects_an_unknown_format(run, tmp_path):
    with pytest.raises(CommandError, match="Cannot tell the format"):
        run("export_catalog", str(tmp_path / "out.xml"))


def _manage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
    )


@pytest.mark.slow
def test_exit_codes(tmp_path):
    bad = write(tmp_path, HEADER + "A,B,,BAD CODE,1.00,\n")
    assert _manage("import_catalog", "--help").returncode == 0

    failed = _manage("import_catalog", bad)
    assert failed.returncode == 1
    assert "line 2: sku_code 'BAD CODE'" in failed.stderr
    assert "1 invalid row(s); nothing was imported." in failed.stderr

    assert _manage("import_catalog").returncode == 2  # missing argument


def test_new_categories_under_existing_ones_and_new_trees_keep_the_tree_sound(run, tmp_path):
    clothing = CategoryFactory(name="Clothing")
    CategoryFactory(name="Shirts", parent=clothing)
    category_soft_delete(category_id=CategoryFactory(name="Archive").pk)  # a deleted tree keeps its tree_id
    path = write(
        tmp_path,
        HEADER
        + (
            "Clothing/Shirts/Formal,Dress Shirt,,DS-1,40.00,\n"
            "Clothing/Accessories,Belt,,BELT-1,15.00,\n"
            "Archive,Old Thing,,OLD-1,1.00,\n"
            "Zeta/Deep/Deeper/Deepest,Thing,,Z-1,1.00,\n"
            "Alpha,Other Thing,,A-1,1.00,\n"
        ),
    )

    output = run("import_catalog", path)

    assert "categories: 8 created, 0 updated, 2 unchanged" in output.out
    assert_tree_sound()
    assert Category.objects.get(path="Clothing/Shirts/Formal").level == 2
    assert Category.objects.get(path="Zeta/Deep/Deeper/Deepest").get_ancestors().count() == 3
    assert len(set(Category.all_objects.filter(level=0).values_list("tree_id", flat=True))) == 5


def test_a_file_that_is_not_utf8_is_an_error(run, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "Caf\xe9,Cr\xe8me,,CR-1,1.00,\n").encode("latin-1"))

    with pytest.raises(CommandError, match="not UTF-8"):
        run("import_catalog", str(path))


def test_blank_lines_keep_the_line_numbers_right(tmp_path, db):
    from io import StringIO

    from django.core.management import call_command

    path = write(
        tmp_path,
        HEADER
        + (
            "\n"  # line 2: empty
            "Ok/Fine,Good,,GOOD-1,1.00,\n"  # line 3
            "\n\n"  # lines 4-5
            ",,,,,\n"  # line 6: only empty cells
            "Ok/Fine,Good,,BAD CODE,1.00,\n"  # line 7
            "Ok/Fine,Good,,GOOD-2,1.00,,extra\n"  # line 8: a cell past the header
            "Ok/Fine,Good,,SHORT-1\n"  # line 9: short row, price missing
        ),
    )
    err = StringIO()
    with pytest.raises(CommandError, match="3 invalid row"):
        call_command("import_catalog", path, stdout=StringIO(), stderr=err)

    assert err.getvalue().splitlines() == [
        "line 7: sku_code 'BAD CODE' must be 1-50 characters of A-Z, a-z, 0-9, '.', '_' and '-'",
        "line 8: has more cells than the header",
        "line 9: price is required with a sku_code",
    ]


CHECK_CASES = [
    {"category_path": "A/B", "product_name": "P", "sku_code": "S-1", "price": "1.5", "attributes": '{"a": 1}'},
    {
        "category_path": " A / B ",
        "category_description": None,
        "category_attributes": " ",
        "product_name": " P ",
        "product_description": "x\ty",
        "product_attributes": "{}",
        "sku_code": " S-2 ",
        "price": " 2 ",
        "attributes": "",
    },
    {"category_path": "A", "product_name": "", "sku_code": "", "price": ""},
    {"category_path": "A", "product_name": "P", "sku_code": None, "price": None},
    {"category_path": "A", "product_name": None, "sku_code": "S-3", "price": "1"},
    {"category_path": "A", "product_name": "P", "sku_code": "S 4", "price": "1"},
    {"category_path": "A", "product_name": "P", "sku_code": "S-5", "price": "1.001", "attributes": "[1]"},
    {"category_path": "A", "product_name": "P", "sku_code": "S-6", "price": None},
    {"category_path": "A", "product_name": "P", "sku_code": "", "price": "3"},
    {"category_path": "A//B", "product_name": "P\x01", "sku_code": "S-7", "price": "x"},
    {"category_path": None, "product_name": "P", "sku_code": "S-8", "price": "-1", "attributes": "{"},
    {
        "category_path": "A",
        "category_description": "d" * 501,
        "product_name": "p" * 151,
        "sku_code": "S-9",
        "price": "1",
    },
    {"category_path": "A", "category_attributes": '"text"', "product_name": "P", "product_attributes": "nope"},
    {"category_path": "A", "product_name": "P", "sku_code": "S-10", "price": "1", "__extra__": True},
    # JSON files: cells that are not text.
    {"category_path": "A", "product_name": "P", "sku_code": "S-11", "price": 1.25, "attributes": {"a": [1]}},
    {"category_path": "A", "product_name": "P", "sku_code": "S-12", "price": True},
    {"category_path": "A", "product_name": "P", "sku_code": "", "price": 0},
    {"category_path": "A", "product_name": "P", "sku_code": "", "price": 5},
    {"category_path": "A", "product_name": 7, "sku_code": "S-13", "price": "1"},
    # backorder_policy: a policy, empty (as stored), unknown, not text, without a SKU.
    {"category_path": "A", "product_name": "P", "sku_code": "BP-1", "price": "1", "backorder_policy": "allow_incoming"},
    {"category_path": "A", "product_name": "P", "sku_code": "BP-2", "price": "1", "backorder_policy": " deny "},
    {"category_path": "A", "product_name": "P", "sku_code": "BP-3", "price": "1", "backorder_policy": ""},
    {"category_path": "A", "product_name": "P", "sku_code": "BP-4", "price": "1", "backorder_policy": "Allow"},
    {"category_path": "A", "product_name": "P", "sku_code": "BP-5", "price": "1", "backorder_policy": 1},
    {"category_path": "A", "product_name": "P", "sku_code": "", "price": "", "backorder_policy": "deny"},
    {"category_path": ["A"], "product_name": "P"},
    {"category_path": "A", "product_name": "P", "sku_code": "S-14", "price": "1", "attributes": {"a": "\x00"}},
    {"category_path": "A", "product_name": "P", "sku_code": "S-15", "price": "1", "__extra__": False},
    ["not", "an", "object"],
    *(
        {"category_path": "A", "product_name": "P", "sku_code": f"PRICE-{i}", "price": price}
        for i, price in enumerate(
            [
                " 12.5 ",
                "00000001.10",
                "99999999.99",
                "100000000",
                "99999999.999",
                "1.",
                ".5",
                "+1",
                "1e2",
                "-0",
                "\uff11",
                "0",
                "1 000",
                "NaN",
                "  ",
            ]
        )
    ),
]


# What `catalog_row_check` makes of each of CHECK_CASES: the row's fields that are set, or
# every fault of the row (the messages an import reports).
CHECK_OUTCOMES = [
    {"category_path": ("A", "B"), "product_name": "P", "sku_code": "S-1", "price": "1.50", "attributes": {"a": 1}},
    {
        "category_path": ("A", "B"),
        "category_description": "",
        "product_name": "P",
        "product_description": "x\ty",
        "product_attributes": {},
        "sku_code": "S-2",
        "price": "2.00",
        "attributes": {},
    },
    {"category_path": ("A",)},
    {"category_path": ("A",), "product_name": "P"},
    "product_name is empty",
    "sku_code 'S 4' must be 1-50 characters of A-Z, a-z, 0-9, '.', '_' and '-'",
    "price '1.001' has more than 2 decimal places; attributes [1] must be a JSON object",
    "price is required with a sku_code",
    "price is given without a sku_code",
    (
        "category name '' must not be empty or whitespace only in category_path; product_name 'P\\x01' must not contain"
        " control characters; price 'x' is not a price like 19.90"
    ),
    "category_path is empty; price '-1' is not between 0 and 99999999.99; attributes: Must be valid JSON.",
    (
        "category_description 'ddddddddddddddddddddddddddddddddddddddd...' (501 characters) must have at most 500"
        " characters (it has 501); product_name 'ppppppppppppppppppppppppppppppppppppppp...' (151 characters) must have"
        " at most 150 characters (it has 151)"
    ),
    "category_attributes 'text' must be a JSON object; product_attributes: Must be valid JSON.",
    "has more cells than the header",
    {"category_path": ("A",), "product_name": "P", "sku_code": "S-11", "price": "1.25", "attributes": {"a": [1]}},
    "price is required with a sku_code",
    {"category_path": ("A",), "product_name": "P"},
    "price is given without a sku_code",
    "must be text; product_name is empty",
    {
        "category_path": ("A",),
        "product_name": "P",
        "sku_code": "BP-1",
        "price": "1.00",
        "attributes": {},
        "backorder_policy": "allow_incoming",
    },
    {
        "category_path": ("A",),
        "product_name": "P",
        "sku_code": "BP-2",
        "price": "1.00",
        "attributes": {},
        "backorder_policy": "deny",
    },
    {"category_path": ("A",), "product_name": "P", "sku_code": "BP-3", "price": "1.00", "attributes": {}},
    "backorder_policy 'Allow' is not one of deny, allow_incoming",
    "backorder_policy must be text",
    "backorder_policy is given without a sku_code",
    "must be text",
    "attributes {'a': '\\x00'} must not contain NUL characters",
    {"category_path": ("A",), "product_name": "P", "sku_code": "S-15", "price": "1.00", "attributes": {}},
    "must be an object",
    {"category_path": ("A",), "product_name": "P", "sku_code": "PRICE-0", "price": "12.50", "attributes": {}},
    {"category_path": ("A",), "product_name": "P", "sku_code": "PRICE-1", "price": "1.10", "attributes": {}},
    {"category_path": ("A",), "product_name": "P", "sku_code": "PRICE-2", "price": "99999999.99", "attributes": {}},
    "price '100000000' is not between 0 and 99999999.99",
    "price '99999999.999' is not between 0 and 99999999.99",
    {"category_path": ("A",), "product_name": "P", "sku_code": "PRICE-5", "price": "1.00", "attributes": {}},
    {"category_path": ("A",), "product_name": "P", "sku_code": "PRICE-6", "price": "0.50", "attributes": {}},
    {"category_path": ("A",), "product_name": "P", "sku_code": "PRICE-7", "price": "1.00", "attributes": {}},
    {"category_path": ("A",), "product_name": "P", "sku_code": "PRICE-8", "price": "100.00", "attributes": {}},
    {"category_path": ("A",), "product_name": "P", "sku_code": "PRICE-9", "price": "-0.00", "attributes": {}},
    {"category_path": ("A",), "product_name": "P", "sku_code": "PRICE-10", "price": "1.00", "attributes": {}},
    {"category_path": ("A",), "product_name": "P", "sku_code": "PRICE-11", "price": "0.00", "attributes": {}},
    "price '1 000' is not a price like 19.90",
    "price 'NaN' is not a price like 19.90",
    "price '' is not a price like 19.90",
]


def test_every_row_fault_and_every_checked_value():
    """One row check for every row (cells memoized by their text): a second round, served from the
    memo, gives the same rows and the same messages as the first."""
    from catalog.services.imports.rows import catalog_row_check

    def outcome(line, record):
        try:
            row = vars(catalog_row_check(line, record))
        except ValueError as exc:
            return str(exc)
        del row["line"]
        return {k: str(v) if k == "price" else v for k, v in row.items() if v is not None or k == "category_path"}

    assert len(CHECK_OUTCOMES) == len(CHECK_CASES)
    for _round in range(2):
        for line, (record, expected) in enumerate(zip(CHECK_CASES, CHECK_OUTCOMES, strict=True), start=2):
            assert outcome(line, record) == expected, record


def test_the_garbage_collector_is_back_on_after_an_import(run, sheet, tmp_path):
    import gc

    run("import_catalog", sheet)
    assert gc.isenabled()
    with pytest.raises(CommandError):
        run("import_catalog", write(tmp_path, HEADER + "A,B,,BAD CODE,1,\n", name="bad.csv"))
    assert gc.isenabled()


# --- issue 10: what the API accepts round-trips; formula cells; huge numbers -----------------

API_NAMES = ["=1+2", "@SUM(A1)", "+cmd", "-50% sale", "'quoted", "''twice", "\tTabbed? no", "Phone", "phone x"]


def _api_catalog(api):
    """Products the API accepts, with formula-like names and names differing only in case
    across categories (the same name in one category is refused: a product's identity)."""
    root = api.post("/api/v1/categories/", {"name": "=Root"}, format="json").json()["data"]
    other = api.post("/api/v1/categories/", {"name": "@Other", "parent_id": root["id"]}, format="json").json()["data"]
    made = 0
    for i, name in enumerate(API_NAMES):
        for category in (root, other):
            response = api.post(
                "/api/v1/products/",
                {"name": name, "category_id": category["id"], "description": '=HYPERLINK("x")'},
                format="json",
            )
            if response.status_code == 400:
                continue  # a name the rules refuse (the tab): not in the catalog
            assert response.status_code == 201, response.json()
            made += 1
            product = response.json()["data"]
            sku = api.post(
                "/api/v1/skus/",
                {"sku_code": f"-S{i}-{category['id']}", "product_id": product["id"], "price": "1.10"},
                format="json",
            )
            assert sku.status_code == 201, sku.json()
    same = api.post("/api/v1/products/", {"name": "PHONE", "category_id": root["id"]}, format="json")
    assert same.status_code == 409 and same.json()["code"] == "duplicate"
    return made


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_what_the_api_accepts_round_trips_byte_equal(api, run, tmp_path, fmt):
    assert _api_catalog(api) == 16
    first = tmp_path / f"first.{fmt}"
    run("export_catalog", str(first))
    assert "0 created, 0 updated" in run("import_catalog", str(first)).summary
    wipe_catalog()
    run("import_catalog", str(first))
    second = tmp_path / f"second.{fmt}"
    run("export_catalog", "--format", fmt, str(second))
    assert second.read_bytes() == first.read_bytes()
    assert set(Product.objects.values_list("name", flat=True)) == {n for n in API_NAMES if "\t" not in n}


def test_csv_export_escapes_formula_cells(api, run):
    _api_catalog(api)
    rows = list(csv.reader(io.StringIO(run("export_catalog").out)))
    cells = {cell for row in rows for cell in row}
    assert {"'=Root", "'=Root/@Other", "'=1+2", "'@SUM(A1)", "'+cmd", "'-50% sale", "''quoted", "'''twice"} <= cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
    assert not any(cell.startswith("-") for cell in cells)


@pytest.mark.parametrize(
    "cell,says",
    [
        ("9" * 5001, "price '999999999999999999999999999999999999999...' (5001 characters) is not between 0 and"),
        ("1.005", "price '1.005' has more than 2 decimal places"),
    ],
)
def test_a_huge_or_too_precise_price_is_a_row_error(tmp_path, db, cell, says):
    path = write(tmp_path, HEADER + f"A,P,,S-1,{cell},\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 invalid row"):
        call_command("import_catalog", path, stdout=io.StringIO(), stderr=err)
    assert err.getvalue().startswith(f"line 2: {says}")
    assert not SKU.all_objects.exists()


def test_a_huge_number_in_a_json_file_is_a_row_error(tmp_path, db):
    path = tmp_path / "c.json"
    huge = "9" * 5001
    path.write_text(
        '[{"category_path": "A", "product_name": "P", "sku_code": "S-1", "price": ' + huge + ","
        ' "attributes": {"n": ' + huge + "}}]",
        encoding="utf-8",
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 invalid row"):
        call_command("import_catalog", str(path), stdout=io.StringIO(), stderr=err)
    assert err.getvalue().startswith("row 1: price ")
    assert "is not between 0 and 99999999.99" in err.getvalue()
    assert not Category.objects.exists()


# --- issue 14: backorder_policy both ways ---------------------------------------------------

POLICY_HEADER = "category_path,product_name,sku_code,price,backorder_policy\n"


def test_import_sets_backorder_policy_and_an_empty_cell_keeps_the_stored_one(run, tmp_path):
    kept = SKUFactory(sku_code="KEPT-1", backorder_policy="allow_incoming", price=Decimal("5.00"))
    changed = SKUFactory(sku_code="CHANGED-1", product=kept.product, price=Decimal("5.00"))
    path = kept.product.category.path
    sheet = write(
        tmp_path,
        POLICY_HEADER
        + (
            f"{path},{kept.product.name},KEPT-1,5.00,\n"  # empty: as stored
            f"{path},{kept.product.name},CHANGED-1,5.00,allow_incoming\n"  # deny -> allow_incoming
            "Books,Novel,NEW-PRE,9.00,allow_incoming\n"  # a preorder from the start
            "Books,Novel,NEW-PLAIN,9.00,\n"  # a new SKU: deny
        ),
    )

    output = run("import_catalog", sheet)

    assert "skus: 2 created, 1 updated, 1 unchanged" in output.out
    policies = dict(SKU.objects.values_list("sku_code", "backorder_policy"))
    assert policies == {
        "KEPT-1": "allow_incoming",
        "CHANGED-1": "allow_incoming",
        "NEW-PRE": "allow_incoming",
        "NEW-PLAIN": "deny",
    }
    changed.refresh_from_db()
    assert changed.version == 2
    assert changed.history.latest().history_change_reason == "Catalog import"


def test_an_unknown_backorder_policy_is_a_row_error_and_nothing_is_written(tmp_path, db):
    from io import StringIO

    sku = SKUFactory(sku_code="STAY-1")
    sheet = write(
        tmp_path,
        POLICY_HEADER
        + (
            "Books,Novel,NEW-1,9.00,allow_incoming\n"
            f"{sku.product.category.path},{sku.product.name},STAY-1,{sku.price},allow_incoming\n"
            "Books,Novel,NEW-2,9.00,sometimes\n"  # line 4
            "Books,Novel,NEW-3,9.00,DENY\n"  # line 5: the values are lower case
            "Books,Novel,,,deny\n"  # line 6: a policy without a SKU
        ),
    )
    err = StringIO()
    with pytest.raises(CommandError, match="3 invalid row"):
        call_command("import_catalog", sheet, stdout=StringIO(), stderr=err)

    assert err.getvalue().splitlines() == [
        "line 4: backorder_policy 'sometimes' is not one of deny, allow_incoming",
        "line 5: backorder_policy 'DENY' is not one of deny, allow_incoming",
        "line 6: backorder_policy is given without a sku_code",
    ]
    assert not SKU.all_objects.filter(sku_code__startswith="NEW").exists()
    sku.refresh_from_db()
    assert (sku.backorder_policy, sku.version) == ("deny", 1)


def test_the_database_refuses_a_policy_the_rows_check_did_not_see(db):
    """The write path's last guard: the table's check constraint, whatever reaches it. Its refusal
    is the catalog's `CatalogChanged` on either backend (PostgreSQL's COPY runs on psycopg's own
    cursor: its error is translated too), naming the constraint; nothing is written."""
    from catalog.exceptions import CatalogChanged
    from catalog.services.imports import catalog_import, catalog_rows_check

    rows = catalog_rows_check(
        [(2, {"category_path": "Books", "product_name": "Novel", "sku_code": "RAW-1", "price": "1"})]
    )
    rows[0].backorder_policy = "whenever"
    with pytest.raises(CatalogChanged, match="nothing was imported.*sku_backorder_policy_known"):
        catalog_import(rows=rows)
    assert not SKU.all_objects.filter(sku_code="RAW-1").exists()
    assert not Product.all_objects.filter(name="Novel").exists()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_backorder_policy_exports_and_round_trips(run, tmp_path, fmt):
    SKUFactory(sku_code="PRE-1", backorder_policy="allow_incoming")
    SKUFactory(sku_code="PLAIN-1")
    first = tmp_path / f"first.{fmt}"
    run("export_catalog", str(first))
    text = first.read_text(encoding="utf-8")
    if fmt == "csv":
        records = list(csv.DictReader(io.StringIO(text)))
    else:
        records = json.loads(text)
    assert {r["sku_code"]: r["backorder_policy"] for r in records} == {"PRE-1": "allow_incoming", "PLAIN-1": "deny"}

    wipe_catalog()
    run("import_catalog", str(first))
    assert dict(SKU.objects.values_list("sku_code", "backorder_policy")) == {
        "PRE-1": "allow_incoming",
        "PLAIN-1": "deny",
    }
    second = tmp_path / f"second.{fmt}"
    run("export_catalog", str(second))
    assert second.read_bytes() == first.read_bytes()
