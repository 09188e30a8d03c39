"""Inbound shipments and backorders against the database: incoming, receipts, allocation, cancel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Event
from stock.exceptions import (
    Backordered,
    Duplicate,
    InboundNotOpen,
    InsufficientStock,
    InvalidInput,
    LinesRefused,
    ReservationNotActive,
)
from stock.models import (
    InboundStatus,
    MovementReason,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
    StockMovement,
)
from stock.selectors_integrity import reserved_drifts
from stock.services import (
    InboundLineInput,
    ReceiptLine,
    ReservationRequestLine,
    inbound_cancel,
    inbound_create,
    inbound_open,
    inbound_receive,
    inbound_update,
    reservation_commit,
    reservation_create,
    reservation_release,
    reservations_expire,
    stock_receive,
)
from tests.stock.conftest import stored_level
from tests.stock.factories import SKUFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def preorder(main):
    """A SKU sold against incoming stock, 2 units on hand in MAIN."""
    sku = SKUFactory(sku_code="PRE-1", backorder_policy="allow_incoming")
    stock_receive(sku=sku, quantity=2, reference="PO-0")
    return sku


def _open(sku, warehouse, quantity, reference="PO-10", **kwargs):
    shipment = inbound_create(
        reference=reference,
        warehouse=warehouse,
        lines=[InboundLineInput(sku=sku, quantity_expected=quantity)],
        **kwargs,
    )
    return inbound_open(shipment=shipment)


def _level(sku, warehouse) -> StockLevel:
    return stored_level(sku=sku, warehouse=warehouse)


def _reserve(sku, quantity, reference="O-1", **kwargs):
    return reservation_create(reference=reference, lines=[ReservationRequestLine(sku=sku, quantity=quantity)], **kwargs)


def _invariants():
    assert reserved_drifts() == []
    for level in StockLevel.objects.all():
        waiting = sum(
            line.backordered
            for line in ReservationLine.objects.filter(
                sku=level.sku, warehouse=level.warehouse, reservation__status=ReservationStatus.ACTIVE
            )
        )
        assert level.backordered == waiting <= level.incoming, level


def test_create_is_a_draft_and_counts_nowhere(sku, main):
    shipment = inbound_create(
        reference="PO-10", supplier="Acme", warehouse=main, lines=[InboundLineInput(sku=sku, quantity_expected=5)]
    )
    assert shipment.status == InboundStatus.DRAFT
    assert not StockLevel.objects.filter(sku=sku, incoming__gt=0).exists()


def test_duplicate_reference_and_bad_lines_are_refused(sku, main):
    inbound_create(reference="PO-10", warehouse=main, lines=[InboundLineInput(sku=sku, quantity_expected=5)])
    with pytest.raises(Duplicate):
        inbound_create(reference="PO-10", warehouse=main, lines=[InboundLineInput(sku=sku, quantity_expected=5)])
    with pytest.raises(LinesRefused) as refused:
        inbound_create(
            reference="PO-11",
            warehouse=main,
            lines=[InboundLineInput(sku=sku, quantity_expected=5), InboundLineInput(sku=sku, quantity_expected=0)],
        )
    assert set(refused.value.errors["lines"]) == {"1"}
    with pytest.raises(InvalidInput):
        inbound_create(reference="PO-12", warehouse=main, lines=[])


def test_open_adds_incoming_and_only_drafts_are_edited(sku, main):
    shipment = _open(sku, main, 5)
    assert shipment.status == InboundStatus.OPEN and _level(sku, main).incoming == 5
    with pytest.raises(InboundNotOpen):
        inbound_update(shipment=shipment, note="late")
    with pytest.raises(InboundNotOpen):
        inbound_open(shipment=shipment)


def test_edit_a_draft_with_a_stale_version_is_refused(sku, main):
    from inventory_site.exceptions import VersionConflict

    shipment = inbound_create(reference="PO-10", warehouse=main, lines=[InboundLineInput(sku=sku, quantity_expected=5)])
    edited = inbound_update(
        shipment=shipment, expected_version=1, supplier="Acme", lines=[InboundLineInput(sku=sku, quantity_expected=7)]
    )
    assert edited.version == 2 and edited.lines.get().quantity_expected == 7
    with pytest.raises(VersionConflict):
        inbound_update(shipment=shipment, expected_version=1, supplier="Other")


def test_receive_writes_receipts_and_moves_incoming_down(sku, main):
    shipment = _open(sku, main, 5)
    shipment, movements, levels = inbound_receive(
        shipment=shipment, lines=[ReceiptLine(sku=sku, quantity=3), ReceiptLine(sku=sku, quantity=1, state="damaged")]
    )
    assert shipment.status == InboundStatus.PARTIALLY_RECEIVED
    level = _level(sku, main)
    assert (level.on_hand, level.damaged, level.incoming) == (4, 1, 1)
    assert [(m.reason, m.delta, m.state_to, m.quantity, m.reference, m.inbound_id) for m in movements] == [
        (MovementReason.RECEIPT, 3, "", None, "PO-10", shipment.pk),
        (MovementReason.RECEIPT, 1, "damaged", 1, "PO-10", shipment.pk),
    ]
    shipment, _, _ = inbound_receive(
        shipment=shipment, lines=[ReceiptLine(sku=sku, quantity=1, state="quality_control")]
    )
    assert shipment.status == InboundStatus.RECEIVED
    level = _level(sku, main)
    assert (level.on_hand, level.quality_control, level.incoming) == (5, 1, 0)


def test_over_receipt_is_refused_unless_allowed_and_never_drives_incoming_negative(sku, main):
    shipment = _open(sku, main, 5)
    with pytest.raises(LinesRefused) as refused:
        inbound_receive(shipment=shipment, lines=[ReceiptLine(sku=sku, quantity=6)])
    assert refused.value.code == "over_receipt"
    assert refused.value.errors["lines"]["0"]["quantity_expected"] == 5
    assert not StockMovement.objects.filter(inbound=shipment).exists()
    shipment, _, _ = inbound_receive(
        shipment=shipment, lines=[ReceiptLine(sku=sku, quantity=6)], allow_over_receipt=True
    )
    assert shipment.status == InboundStatus.RECEIVED
    assert (_level(sku, main).on_hand, _level(sku, main).incoming) == (6, 0)


def test_receiving_into_draft_cancelled_or_received_is_refused(sku, main):
    draft = inbound_create(reference="PO-10", warehouse=main, lines=[InboundLineInput(sku=sku, quantity_expected=5)])
    with pytest.raises(InboundNotOpen):
        inbound_receive(shipment=draft, lines=[ReceiptLine(sku=sku, quantity=1)])
    inbound_cancel(shipment=draft)
    with pytest.raises(InboundNotOpen):
        inbound_receive(shipment=draft, lines=[ReceiptLine(sku=sku, quantity=1)])


def test_a_receipt_line_not_on_the_shipment_refuses_the_whole_receipt(sku, main):
    stranger = SKUFactory()
    shipment = _open(sku, main, 5)
    with pytest.raises(LinesRefused) as refused:
        inbound_receive(
            shipment=shipment, lines=[ReceiptLine(sku=sku, quantity=1), ReceiptLine(sku=stranger, quantity=1)]
        )
    assert set(refused.value.errors["lines"]) == {"1"}
    assert _level(sku, main).on_hand == 0


def test_cancel_takes_outstanding_out_of_incoming(sku, main):
    shipment = _open(sku, main, 5)
    inbound_receive(shipment=shipment, lines=[ReceiptLine(sku=sku, quantity=2)])
    shipment = inbound_cancel(shipment=shipment)
    assert shipment.status == InboundStatus.CANCELLED and _level(sku, main).incoming == 0
    with pytest.raises(InboundNotOpen):
        inbound_cancel(shipment=shipment)


# --- Backorders ------------------------------------------------------------------------


def test_deny_policy_never_backorders(stocked, main):
    _open(stocked, main, 50)
    with pytest.raises(LinesRefused) as refused:
        _reserve(stocked, 15)
    assert refused.value.code == InsufficientStock.code


def test_a_short_line_backorders_against_incoming(preorder, main):
    _open(preorder, main, 5)
    reservation = _reserve(preorder, 6)
    line = reservation.lines.get()
    assert (line.quantity, line.allocated, line.backordered) == (6, 2, 4)
    level = _level(preorder, main)
    assert (level.reserved, level.backordered, level.incoming) == (2, 4, 5)
    with pytest.raises(LinesRefused):
        _reserve(preorder, 2, reference="O-2")  # 1 left to backorder
    _invariants()


def test_commit_waits_for_allocation_then_receipt_allocates_oldest_first(preorder, main):
    shipment = _open(preorder, main, 5)
    first = _reserve(preorder, 4, reference="O-1")
    second = _reserve(preorder, 3, reference="O-2")
    with pytest.raises(Backordered):
        reservation_commit(reservation=first)
    inbound_receive(shipment=shipment, lines=[ReceiptLine(sku=preorder, quantity=3)])
    first_line, second_line = first.lines.get(), second.lines.get()
    assert (first_line.backordered, second_line.backordered) == (0, 2)
    level = _level(preorder, main)
    assert (level.on_hand, level.reserved, level.backordered, level.incoming, level.available) == (5, 5, 2, 2, 0)
    assert Event.objects.filter(type="reservation.allocated", reference="O-1").count() == 1
    assert Event.objects.filter(type="reservation.allocated", reference="O-2").count() == 1  # 1 of its 3
    allocated = Event.objects.filter(type="reservation.allocated", reference="O-1").get().data
    assert allocated["backordered"] is False and allocated["lines"][0]["allocated"] == 4
    reservation_commit(reservation=first)
    assert _level(preorder, main).on_hand == 1
    _invariants()


def test_fully_allocated_reservation_is_capped_at_seven_days(preorder, main):
    shipment = _open(preorder, main, 5)
    reservation = _reserve(preorder, 4, ttl_seconds=60 * 24 * 3600)
    assert reservation.expires_at > timezone.now() + timedelta(days=50)
    inbound_receive(shipment=shipment, lines=[ReceiptLine(sku=preorder, quantity=5)])
    reservation.refresh_from_db()
    assert reservation.expires_at <= timezone.now() + timedelta(days=7)


def test_long_ttl_only_where_backorders_may_be(stocked, preorder, main):
    with pytest.raises(InvalidInput):
        _reserve(stocked, 1, ttl_seconds=8 * 24 * 3600)
    reservation = _reserve(preorder, 1, ttl_seconds=8 * 24 * 3600)  # nothing backordered: capped
    assert reservation.expires_at <= timezone.now() + timedelta(days=7)


def test_release_frees_allocated_and_drops_backordered(preorder, main):
    _open(preorder, main, 5)
    reservation = _reserve(preorder, 6)
    reservation_release(reservation=reservation)
    level = _level(preorder, main)
    assert (level.reserved, level.backordered, level.incoming) == (0, 0, 5)
    with pytest.raises(ReservationNotActive):
        reservation_release(reservation=reservation)


def test_expiry_drops_backordered_units(preorder, main, later):
    _open(preorder, main, 5)
    _reserve(preorder, 6, ttl_seconds=60)
    later(120)
    assert reservations_expire() == 1
    level = _level(preorder, main)
    assert (level.reserved, level.backordered) == (0, 0)
    _invariants()


def test_cancel_drops_uncovered_backorders_newest_first(preorder, main, other):
    first_po = _open(preorder, main, 4, reference="PO-A")
    _open(preorder, main, 2, reference="PO-B")
    oldest = _reserve(preorder, 5, reference="O-1")  # 2 allocated, 3 backordered
    middle = _reserve(preorder, 2, reference="O-2")  # 2 backordered
    newest = _reserve(preorder, 1, reference="O-3")  # 1 backordered; incoming 6 = backordered 6
    inbound_cancel(shipment=first_po)  # incoming 2: 4 of the 6 go
    assert not Reservation.objects.get(pk=newest.pk).lines.exists()
    assert Reservation.objects.get(pk=newest.pk).status == ReservationStatus.RELEASED
    middle = Reservation.objects.get(pk=middle.pk)
    assert not middle.lines.exists() and middle.status == ReservationStatus.RELEASED
    line = oldest.lines.get()
    assert (line.quantity, line.allocated, line.backordered) == (4, 2, 2)
    level = _level(preorder, main)
    assert (level.reserved, level.backordered, level.incoming) == (2, 2, 2)
    _invariants()


def test_cancel_keeps_the_allocated_part_of_a_line(preorder, main):
    shipment = _open(preorder, main, 4)
    reservation = _reserve(preorder, 5)
    inbound_cancel(shipment=shipment)
    line = reservation.lines.get()
    assert (line.quantity, line.allocated, line.backordered) == (2, 2, 0)
    assert Reservation.objects.get(pk=reservation.pk).status == ReservationStatus.ACTIVE
    reservation_commit(reservation=reservation)
    _invariants()


def test_a_damaged_receipt_drops_the_backorders_it_no_longer_covers(preorder, main):
    shipment = _open(preorder, main, 3)
    reservation = _reserve(preorder, 5)  # 2 allocated, 3 backordered
    inbound_receive(shipment=shipment, lines=[ReceiptLine(sku=preorder, quantity=3, state="damaged")])
    line = reservation.lines.get()
    assert (line.quantity, line.backordered) == (2, 0)
    _invariants()


def test_a_warehouse_or_sku_on_a_shipment_is_kept_by_hard_delete_and_purge(sku, main, other):
    from stock.exceptions import HasDependents
    from stock.services import warehouse_hard_delete
    from stock.services.purge import _sku_holds_ledger

    inbound_create(reference="PO-10", warehouse=other, lines=[InboundLineInput(sku=sku, quantity_expected=5)])
    with pytest.raises(HasDependents) as refused:
        warehouse_hard_delete(warehouse=other)
    assert refused.value.errors["inbound_shipments"] == 1
    assert type(sku).all_objects.filter(_sku_holds_ledger(), pk=sku.pk).exists()


def test_the_expiry_command_drops_backordered_units(preorder, main, later):
    from io import StringIO

    from django.core.management import call_command

    _open(preorder, main, 5)
    _reserve(preorder, 6, ttl_seconds=60)
    later(120)
    call_command("release_expired_reservations", stdout=StringIO())
    level = _level(preorder, main)
    assert (level.reserved, level.backordered, level.incoming) == (0, 0, 5)
    assert Reservation.objects.get().status == ReservationStatus.EXPIRED
