"""release_expired_reservations and check_integrity."""

from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import Category
from stock.models import Reservation, StockLevel, StockMovement
from stock.services import ReservationRequestLine, reservation_create
from tests.stock.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command(*args, stdout=out, stderr=StringIO())
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


def test_release_expired(stocked, later):
    reservation_create(reference="A", lines=[ReservationRequestLine(sku=stocked, quantity=4)], ttl_seconds=10)
    reservation_create(reference="B", lines=[ReservationRequestLine(sku=stocked, quantity=1)], ttl_seconds=100)
    later(11)
    code, out = run("release_expired_reservations")
    assert code == 0 and "Expired 1 reservation" in out
    assert Reservation.objects.get(reference="A").status == "expired"
    assert StockLevel.objects.get().reserved == 1
    assert run("release_expired_reservations")[1].startswith("Expired 0")


def test_check_integrity_clean(stocked, later):
    root = CategoryFactory(name="Root")
    CategoryFactory(name="Child", parent=root)
    reservation_create(reference="A", lines=[ReservationRequestLine(sku=stocked, quantity=4)], ttl_seconds=10)
    later(11)  # overdue but unrecorded: not drift
    code, out = run("check_integrity")
    assert code == 0, out
    assert "OK" in out


def test_check_integrity_finds_ledger_and_reserved_drift(stocked):
    StockLevel.objects.update(on_hand=12, reserved=1)
    code, out = run("check_integrity")
    assert code == 1
    assert "on_hand 12 != ledger sum 10" in out and "reserved 1 != active reservations 0" in out


def test_check_integrity_movement_without_level(stocked):
    StockMovement.objects.update(delta=9)
    assert run("check_integrity")[0] == 1


def test_check_integrity_tree_and_fix(stocked):
    root = CategoryFactory(name="Root")
    child = CategoryFactory(name="Child", parent=root)
    Category.all_objects.filter(pk=child.pk).update(lft=7, rght=9)
    code, out = run("check_integrity")
    assert code == 1 and "category" in out
    code, out = run("check_integrity", "--fix")
    assert code == 0, out
    assert "Rebuilt" in out
    assert StockLevel.objects.get().on_hand == 10


def test_release_expired_batch_and_bad_batch(stocked, later):
    from django.core.management.base import CommandError

    for n in range(3):
        reservation_create(reference=f"A{n}", lines=[ReservationRequestLine(sku=stocked, quantity=1)], ttl_seconds=10)
    later(11)
    assert "Expired 2 reservation" in run("release_expired_reservations", "--batch", "2")[1]
    assert StockLevel.objects.get().reserved == 1
    with pytest.raises(CommandError):
        call_command("release_expired_reservations", "--batch", "0")
