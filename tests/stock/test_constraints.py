"""The database itself holds the stock invariants: writes that skip the services are refused too."""
import pytest
from django.db import IntegrityError, transaction

from stock.models import StockLevel, StockMovement

pytestmark = pytest.mark.django_db


def _refused(write) -> str:
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        write()
    return str(exc.value)


@pytest.mark.postgres  # names the constraint that refused (SQLite's message differs)
@pytest.mark.parametrize(("changes", "constraint"), [
    ({"on_hand": -1, "reserved": 0}, "stocklevel_on_hand_not_negative"),
    ({"reserved": -1}, "stocklevel_reserved_not_negative"),
    ({"reserved": 11}, "stocklevel_reserved_le_on_hand"),
    ({"low_stock_threshold": -1}, "stocklevel_threshold_not_negative"),
])
def test_level_checks(stocked, changes, constraint):
    assert constraint in _refused(lambda: StockLevel.objects.filter(sku=stocked).update(**changes))
    level = StockLevel.objects.get(sku=stocked)
    assert (level.on_hand, level.reserved, level.low_stock_threshold) == (10, 0, 0)


@pytest.mark.parametrize(("fields", "constraint"), [
    ({"delta": 0, "balance_after": 10}, "movement_delta_not_zero"),
    ({"delta": -11, "balance_after": -1}, "movement_balance_not_negative"),
])
def test_movement_checks(stocked, main, fields, constraint):
    before = StockMovement.objects.count()
    message = _refused(lambda: StockMovement.objects.create(sku=stocked, warehouse=main, reason="loss", **fields))
    assert constraint in message or "CHECK constraint failed" in message
    assert StockMovement.objects.count() == before
