"""Fixtures of the stock tests: the default warehouse, a SKU with stock, time travel; `check_integrity`'s verdict."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from stock.models import Warehouse
from stock.services import stock_receive
from tests.stock.factories import SKUFactory, WarehouseFactory


@pytest.fixture
def main(db) -> Warehouse:
    """The default warehouse the migrations create (transactional tests flush it: bring it back)."""
    warehouse, _ = Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main warehouse", "is_default": True})
    return warehouse


@pytest.fixture
def other(db) -> Warehouse:
    return WarehouseFactory(code="EAST", name="East")


@pytest.fixture
def sku(db):
    return SKUFactory(sku_code="TSHIRT-RED-M")


@pytest.fixture
def stocked(sku, main):
    """`sku` with 10 units received into MAIN."""
    stock_receive(sku=sku, quantity=10, reference="PO-1")
    return sku


@pytest.fixture
def later(monkeypatch):
    """`later(seconds)`: make `timezone.now()` return a moment that far in the future."""

    def travel(seconds: int):
        moment = timezone.now() + timedelta(seconds=seconds)
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment

    return travel


def integrity_check() -> tuple[int, str]:
    """`manage.py check_integrity` as cron runs it: its exit status and what it printed."""
    out = StringIO()
    try:
        call_command("check_integrity", stdout=out, stderr=StringIO())
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def stored_level(**filters):
    """A level as stored, with `available` as the database computes it (`stock_available`)."""
    from stock.models import StockLevel
    from stock.selectors import LevelAvailable

    return StockLevel.objects.annotate(available=LevelAvailable()).get(**filters)
