"""What a receipt costs: the same statements for 1 line as for 20, backorders allocated or dropped included."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Event
from stock.models import Reservation, ReservationStatus, StockLevel, StockMovement
from stock.selectors import LevelAvailable
from stock.selectors_integrity import stock_drifts
from stock.services import (
    InboundLineInput,
    ReceiptLine,
    ReservationRequestLine,
    inbound_create,
    inbound_open,
    inbound_receive,
    reservation_create,
)
from tests.stock.factories import SKUFactory

pytestmark = [pytest.mark.django_db]


def waiting_world(main, size: int, tag: str):
    """`size` preorder SKUs, none on hand, each expected 10 on one open shipment and waited on by
    two reservations (4 and 3 units, all backordered)."""
    skus = [SKUFactory(sku_code=f"COST-{tag}-{n}", backorder_policy="allow_incoming") for n in range(size)]
    shipment = inbound_open(
        shipment=inbound_create(
            reference=f"PO-{tag}",
            warehouse=main,
            lines=[InboundLineInput(sku=sku, quantity_expected=10) for sku in skus],
        )
    )
    for sku in skus:
        for part, quantity in (("a", 4), ("b", 3)):
            reservation_create(
                reference=f"O-{sku.sku_code}-{part}",
                ttl_seconds=30 * 24 * 3600,
                lines=[ReservationRequestLine(sku=sku, quantity=quantity)],
            )
    return shipment, skus


@pytest.mark.parametrize(
    "state, outcome",
    [
        ("sellable", ReservationStatus.ACTIVE),  # every waiting line allocated (and capped at 7 days)
        ("damaged", ReservationStatus.RELEASED),  # incoming gone, nothing sellable: every backorder dropped
    ],
)
def test_a_receipt_of_20_lines_costs_what_one_of_1_line_does(main, django_assert_max_num_queries, state, outcome):
    small, small_skus = waiting_world(main, 1, "S")
    large, large_skus = waiting_world(main, 20, "L")
    last_event = Event.objects.order_by("-id").values_list("id", flat=True).first()
    versions = dict(StockLevel.objects.filter(sku__in=large_skus).values_list("pk", "version"))

    with CaptureQueriesContext(connection) as one_line:
        inbound_receive(shipment=small, lines=[ReceiptLine(sku=sku, quantity=10, state=state) for sku in small_skus])
    assert len(one_line) <= 30
    with django_assert_max_num_queries(len(one_line)):
        _shipment, movements, levels = inbound_receive(
            shipment=large, lines=[ReceiptLine(sku=sku, quantity=10, state=state) for sku in large_skus]
        )

    # What the statements wrote is what one change at a time wrote before.
    assert [m.sku.sku_code for m in movements] == [sku.sku_code for sku in large_skus]
    assert all(m.pk and m.inbound_id == large.pk and m.delta == 10 for m in movements)
    assert StockMovement.objects.filter(inbound=large).count() == 20
    for level in StockLevel.objects.filter(sku__in=large_skus).annotate(available=LevelAvailable()):
        if state == "sellable":
            assert (level.on_hand, level.reserved, level.backordered, level.incoming, level.available) == (
                10,
                7,
                0,
                0,
                3,
            )
        else:
            assert (level.on_hand, level.damaged, level.reserved, level.backordered, level.incoming) == (
                10,
                10,
                0,
                0,
                0,
            )
        # the receipt, the allocations (or drops) for both reservations, incoming down: a version each
        assert level.version == versions[level.pk] + 4
    reservations = Reservation.objects.filter(reference__startswith="O-COST-L")
    assert reservations.count() == 40 and {r.status for r in reservations} == {outcome}
    follow_up = "reservation.allocated" if state == "sellable" else "reservation.released"
    assert Event.objects.filter(type=follow_up, reference__startswith="O-COST-L").count() == 40
    # Per level: the receipt's and incoming's events, and one per reservation allocated or dropped.
    since = Event.objects.filter(id__gt=last_event, type="stock.level.changed")
    assert since.filter(reference="PO-L").count() == 20 * 2
    assert since.filter(reference__startswith="O-COST-L").count() == 40
    assert stock_drifts() == []
