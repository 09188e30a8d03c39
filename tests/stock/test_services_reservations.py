"""reservation_create / commit / release / expiry against the database."""

import pytest
from django.utils import timezone

from stock import selectors
from stock.exceptions import LinesRefused, ReservationExpired, ReservationNotActive
from stock.models import ReservationStatus, StockLevel, StockMovement
from stock.services import (
    ReservationRequestLine as Line,
)
from stock.services import (
    reservation_commit,
    reservation_create,
    reservation_release,
    reservations_expire,
    stock_adjust,
    stock_receive,
)
from tests.stock.factories import SKUFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def level(sku, warehouse):
    return StockLevel.objects.get(sku=sku, warehouse=warehouse)


def test_create_holds_stock(stocked, main):
    reservation = reservation_create(reference="ORDER-1", lines=[Line(sku=stocked, quantity=3)], ttl_seconds=60)
    assert reservation.status == "active"
    line = reservation.lines.get()
    assert (line.sku_id, line.warehouse_id, line.quantity) == (stocked.pk, main.pk, 3)
    lvl = level(stocked, main)
    assert (lvl.on_hand, lvl.reserved) == (10, 3)
    assert 55 <= (reservation.expires_at - timezone.now()).total_seconds() <= 60


def test_default_ttl(stocked, settings):
    settings.RESERVATION_TTL_SECONDS = 120
    reservation = reservation_create(reference="O", lines=[Line(sku=stocked, quantity=1)])
    assert 115 <= (reservation.expires_at - reservation.created_at).total_seconds() <= 121


def test_all_or_nothing_names_short_lines(stocked, main):
    empty = SKUFactory()
    with pytest.raises(LinesRefused) as exc:
        reservation_create(
            reference="O",
            lines=[Line(sku=stocked, quantity=2), Line(sku=stocked, quantity=9), Line(sku=empty, quantity=1)],
        )
    assert exc.value.code == "insufficient_stock"
    assert exc.value.errors == {
        "lines": {
            "1": {"sku_code": stocked.sku_code, "available": 8, "requested": 9},  # after line 0
            "2": {"sku_code": empty.sku_code, "available": 0, "requested": 1},
        }
    }
    assert level(stocked, main).reserved == 0


def test_falls_back_to_first_active_warehouse_with_enough(sku, main, other):
    inactive = WarehouseFactory(code="AAA", is_active=False)
    stock_receive(sku=sku, quantity=1)
    stock_receive(sku=sku, quantity=9, warehouse=inactive)
    stock_receive(sku=sku, quantity=5, warehouse=other)
    reservation = reservation_create(reference="O", lines=[Line(sku=sku, quantity=3)])
    assert reservation.lines.get().warehouse_id == other.pk
    reservation = reservation_create(reference="O", lines=[Line(sku=sku, quantity=1)])
    assert reservation.lines.get().warehouse_id == main.pk


def test_explicit_warehouse_only(sku, main, other):
    stock_receive(sku=sku, quantity=5, warehouse=other)
    with pytest.raises(LinesRefused):
        reservation_create(reference="O", lines=[Line(sku=sku, quantity=1, warehouse=main)])


@pytest.mark.parametrize("ttl", [0, 604801])
def test_ttl_bounds(stocked, ttl):
    with pytest.raises(Exception) as exc:
        reservation_create(reference="O", lines=[Line(sku=stocked, quantity=1)], ttl_seconds=ttl)
    assert exc.value.code == "validation_error"


def test_invalid_lines(stocked):
    type(stocked).all_objects.filter(pk=stocked.pk).update(is_deleted=True)  # the database judges the codes
    with pytest.raises(LinesRefused) as exc:
        reservation_create(reference="O", lines=[Line(sku=stocked, quantity=1)])
    assert exc.value.code == "validation_error"
    assert exc.value.errors == {"lines": {"0": {"sku_id": ["This SKU is deleted."]}}}
    with pytest.raises(Exception) as exc:
        reservation_create(reference="O", lines=[])
    assert exc.value.code == "validation_error"


def test_commit_sells(stocked, main, admin_user):
    reservation = reservation_create(reference="ORDER-7", lines=[Line(sku=stocked, quantity=3)])
    reservation_commit(reservation=reservation, user=admin_user)
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.COMMITTED
    lvl = level(stocked, main)
    assert (lvl.on_hand, lvl.reserved) == (7, 0)
    sale = StockMovement.objects.get(reason="sale")
    assert (sale.delta, sale.balance_after, sale.reservation_id, sale.reference, sale.created_by) == (
        -3,
        7,
        reservation.pk,
        "ORDER-7",
        admin_user,
    )


def test_release_gives_back(stocked, main):
    reservation = reservation_create(reference="O", lines=[Line(sku=stocked, quantity=3)])
    reservation_release(reservation=reservation)
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.RELEASED
    assert (level(stocked, main).on_hand, level(stocked, main).reserved) == (10, 0)
    assert StockMovement.objects.count() == 1


def test_not_active(stocked):
    reservation = reservation_create(reference="O", lines=[Line(sku=stocked, quantity=3)])
    reservation_release(reservation=reservation)
    with pytest.raises(ReservationNotActive):
        reservation_commit(reservation=reservation)
    with pytest.raises(ReservationNotActive):
        reservation_release(reservation=reservation)


def test_expired_reads_as_expired_and_frees_stock(stocked, main, later):
    reservation = reservation_create(reference="O", lines=[Line(sku=stocked, quantity=10)], ttl_seconds=60)
    assert selectors.sku_stock_totals([stocked.pk])[stocked.pk]["available"] == 0
    later(61)
    assert selectors.reservation_status(reservation) == "expired"
    assert selectors.sku_stock_totals([stocked.pk])[stocked.pk] == {"on_hand": 10, "reserved": 0, "available": 10}
    lvl = selectors.stock_level_list().get()
    assert (lvl.effective_reserved, lvl.effective_available) == (0, 10)
    assert level(stocked, main).reserved == 10  # not yet recorded
    # A new reservation gets the units: the overdue one is recorded as expired on the way.
    reservation_create(reference="O2", lines=[Line(sku=stocked, quantity=10)])
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.EXPIRED
    assert level(stocked, main).reserved == 10


def test_adjust_sees_expired_units(stocked, main, later):
    reservation_create(reference="O", lines=[Line(sku=stocked, quantity=10)], ttl_seconds=60)
    later(61)
    stock_adjust(sku=stocked, delta=-10, reason="loss")
    assert (level(stocked, main).on_hand, level(stocked, main).reserved) == (0, 0)


def test_commit_after_expiry(stocked, main, later):
    reservation = reservation_create(reference="O", lines=[Line(sku=stocked, quantity=4)], ttl_seconds=60)
    later(60)
    with pytest.raises(ReservationExpired):
        reservation_commit(reservation=reservation)
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.EXPIRED
    assert (level(stocked, main).on_hand, level(stocked, main).reserved) == (10, 0)
    with pytest.raises(ReservationExpired):
        reservation_commit(reservation=reservation)
    with pytest.raises(ReservationNotActive):
        reservation_release(reservation=reservation)


def test_reservations_expire(stocked, main, later):
    reservation_create(reference="A", lines=[Line(sku=stocked, quantity=2)], ttl_seconds=60)
    keep = reservation_create(reference="B", lines=[Line(sku=stocked, quantity=3)], ttl_seconds=600)
    later(61)
    assert reservations_expire() == 1
    assert reservations_expire() == 0
    assert level(stocked, main).reserved == 3
    keep.refresh_from_db()
    assert keep.status == "active"


def test_status_filter_reads_expiry(stocked, later):
    from stock.models import Reservation

    reservation_create(reference="A", lines=[Line(sku=stocked, quantity=2)], ttl_seconds=60)
    reservation_create(reference="B", lines=[Line(sku=stocked, quantity=2)], ttl_seconds=600)
    later(61)
    active = selectors.reservations_with_status(Reservation.objects.all(), "active")
    expired = selectors.reservations_with_status(Reservation.objects.all(), "expired")
    assert [r.reference for r in active] == ["B"] and [r.reference for r in expired] == ["A"]
