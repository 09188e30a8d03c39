"""import_catalog losing a race: a SKU code taken by another writer between matching and COPY."""

import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from catalog.models import SKU, Category, Product
from catalog.services import sku_create
from tests.catalog.factories import ProductFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SHEET = (
    "category_path,product_name,product_description,sku_code,price,attributes\n"
    "Race/New Things,Racer,,RACE-1,10.00,\n"
    "Race/New Things,Racer,,RACE-2,11.00,\n"
)


def _import_in_another_process(path: Path) -> subprocess.Popen:
    """`manage.py import_catalog` as an operator runs it, on the test database."""
    database = connection.settings_dict
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    return subprocess.Popen(
        [sys.executable, "manage.py", "import_catalog", str(path)],
        cwd=settings.BASE_DIR,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "DEBUG": "true", "DATABASE_URL": url},
    )


def _query_blocked_by_me(importer: subprocess.Popen, timeout: float = 60) -> str | None:
    """The statement of the first session waiting on this one's transaction (None if none in time)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline and importer.poll() is None:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # pg_stat_activity is cached per transaction
            cursor.execute("SELECT query FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))")
            row = cursor.fetchone()
            if row:
                return row[0]
            time.sleep(0.05)
    return None


def test_a_code_taken_while_the_import_copies_gives_the_message_and_writes_nothing(tmp_path):
    """The importer matches its rows without seeing the uncommitted SKU "race-1", so it plans to
    create RACE-1; its COPY then waits on the case-insensitive code index for this transaction,
    which commits: the database refuses the import's row, and the command says so."""
    path = tmp_path / "catalog.csv"
    path.write_text(SHEET, encoding="utf-8")
    elsewhere = ProductFactory(name="Elsewhere")

    with transaction.atomic():
        taken = sku_create(sku_code="race-1", product_id=elsewhere.pk, price=Decimal("5.00"))
        importer = _import_in_another_process(path)
        blocked = _query_blocked_by_me(importer)
    out, err = importer.communicate(timeout=120)

    assert blocked is not None and blocked.startswith("COPY "), (blocked, err)
    assert importer.returncode == 1, err
    assert "Traceback" not in err
    assert "The catalog changed while importing; nothing was imported, run it again" in err
    assert "sku_code_unique_ci" in err
    assert "Imported" not in out
    assert list(SKU.all_objects.values_list("pk", "sku_code")) == [(taken.pk, "race-1")]
    assert not Product.all_objects.filter(name="Racer").exists()
    assert not Category.all_objects.filter(name__in=["Race", "New Things"]).exists()
