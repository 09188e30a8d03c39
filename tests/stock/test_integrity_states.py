"""check_integrity knows every state: damaged and quality control against their movements,
reserved and backordered against active lines, incoming against open inbound lines."""

import pytest

from stock.models import InboundLine, InboundShipment, ReservationLine, StockLevel
from stock.selectors_integrity import stock_drifts
from stock.services import ReservationRequestLine, reservation_create, stock_state_move
from tests.stock.conftest import integrity_check

pytestmark = pytest.mark.django_db


@pytest.fixture
def moved(stocked, main):
    stock_state_move(
        sku=stocked, warehouse=main, quantity=3, from_state="sellable", to_state="damaged", reason="damage"
    )
    stock_state_move(
        sku=stocked, warehouse=main, quantity=2, from_state="sellable", to_state="quality_control", reason="inspection"
    )
    stock_state_move(
        sku=stocked, warehouse=main, quantity=1, from_state="quality_control", to_state="damaged", reason="inspection"
    )
    return stocked


def test_a_sound_level_with_every_state_is_ok(moved):
    assert integrity_check() == (
        0,
        "OK: ledger, quantity states, reserved, backordered and incoming quantities and category tree agree.\n",
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"damaged": 2}, "damaged 2 != ledger moves 4"),
        ({"quality_control": 0}, "quality_control 0 != ledger moves 1"),
    ],
)
def test_a_state_that_differs_from_its_movements_is_drift(moved, changes, expected):
    StockLevel.objects.filter(sku=moved).update(**changes)
    code, out = integrity_check()
    assert code == 1 and expected in out


def test_reserved_counts_allocated_units_and_backordered_the_rest(stocked, main):
    reservation = reservation_create(reference="R", lines=[ReservationRequestLine(sku=stocked, quantity=4)])
    assert stock_drifts() == []
    # A line with 1 of its 4 units backordered holds 3 in `reserved` and 1 in `backordered`.
    ReservationLine.objects.filter(reservation=reservation).update(backordered=1)
    drifts = stock_drifts()
    assert any("reserved 4 != active reservations 3" in d for d in drifts)
    assert any("backordered 0 != backordered lines 1" in d for d in drifts)
    StockLevel.objects.filter(sku=stocked).update(reserved=3, incoming=1, backordered=1)
    InboundLine.objects.create(
        shipment=InboundShipment.objects.create(reference="PO-9", warehouse=main, status="open"),
        sku=stocked,
        quantity_expected=1,
    )
    assert stock_drifts() == []


def test_incoming_is_what_open_inbound_lines_still_expect(stocked, main):
    open_one = InboundShipment.objects.create(reference="PO-1", warehouse=main, status="partially_received")
    InboundLine.objects.create(shipment=open_one, sku=stocked, quantity_expected=10, quantity_received=4)
    over = InboundShipment.objects.create(reference="PO-2", warehouse=main, status="open")
    InboundLine.objects.create(shipment=over, sku=stocked, quantity_expected=2, quantity_received=5)  # over-receipt: 0
    draft = InboundShipment.objects.create(reference="PO-3", warehouse=main, status="draft")
    InboundLine.objects.create(shipment=draft, sku=stocked, quantity_expected=7)  # not open: not incoming
    assert any("incoming 0 != open inbound lines 6" in d for d in stock_drifts())
    StockLevel.objects.filter(sku=stocked).update(incoming=6)
    assert stock_drifts() == []
