"""Real threads against PostgreSQL: reservations with backorders, receipts, releases and a
cancel racing on the same SKUs never oversell, never deadlock unretried, and every
invariant of the spec holds afterwards; a receipt retried with one key applies once."""

import random
import time

import pytest
from django.db.models import Sum

from stock.models import (
    InboundLine,
    InboundShipment,
    Reservation,
    ReservationLine,
    ReservationStatus,
    StockLevel,
    StockMovement,
    Warehouse,
)
from stock.selectors_integrity import stock_drifts
from stock.services import (
    InboundLineInput,
    ReceiptLine,
    ReservationRequestLine,
    inbound_cancel,
    inbound_create,
    inbound_open,
    inbound_receive,
    reservation_commit,
    reservation_create,
    reservation_release,
)
from tests.conftest import token_client
from tests.factories import UserFactory
from tests.stock.factories import SKUFactory
from tests.stock.test_concurrency import in_threads

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def main():
    warehouse, _ = Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main", "is_default": True})
    return warehouse


def assert_invariants(skus):
    assert stock_drifts() == []  # ledger, every state, reserved, backordered and incoming
    for level in StockLevel.objects.filter(sku__in=skus):
        active = ReservationLine.objects.filter(
            sku=level.sku, warehouse=level.warehouse, reservation__status=ReservationStatus.ACTIVE
        )
        allocated = sum(line.allocated for line in active)
        waiting = sum(line.backordered for line in active)
        assert level.reserved == allocated, level
        assert level.backordered == waiting <= level.incoming, level
        outstanding = sum(
            line.quantity_outstanding
            for line in InboundLine.objects.filter(
                sku=level.sku, shipment__warehouse=level.warehouse, shipment__status__in=["open", "partially_received"]
            )
        )
        assert level.incoming == outstanding, level
        assert level.reserved + level.damaged + level.quality_control <= level.on_hand, level


def test_reservations_receipts_releases_and_a_cancel_race_without_oversell(main):
    skus = [SKUFactory(sku_code=f"RACE-{n}", backorder_policy="allow_incoming") for n in range(2)]
    shipments = []
    for n in range(4):
        shipment = inbound_create(
            reference=f"PO-R{n}",
            warehouse=main,
            lines=[InboundLineInput(sku=sku, quantity_expected=40) for sku in skus],
        )
        shipments.append(inbound_open(shipment=shipment))
    rng = random.Random(7)
    plan = []
    for i in range(120):
        plan.append(("reserve", i))
    for shipment in shipments[:3]:
        for part in range(4):
            plan.append(("receive", shipment.pk, part))
    plan.append(("cancel", shipments[3].pk))
    for i in range(30):
        plan.append(("release", i))
    rng.shuffle(plan)
    made: dict[int, int] = {}

    def work(index):
        step = plan[index]
        if step[0] == "reserve":
            lines = [ReservationRequestLine(sku=sku, quantity=rng.randint(1, 3)) for sku in skus]
            reservation = reservation_create(reference=f"O-{step[1]}", lines=lines, ttl_seconds=3600)
            made[step[1]] = reservation.pk
            return reservation
        if step[0] == "receive":
            state = "damaged" if step[2] == 3 else "sellable"
            return inbound_receive(
                shipment=step[1], lines=[ReceiptLine(sku=sku, quantity=10, state=state) for sku in skus]
            )
        if step[0] == "cancel":
            return inbound_cancel(shipment=step[1])
        pk = made.get(step[1])
        if pk is None:
            return None
        return reservation_release(reservation=pk)

    def guarded(index):  # a deadlock or any database error is returned too, and fails below
        try:
            return work(index)
        except Exception as exc:  # noqa: BLE001
            return exc

    results = in_threads(guarded, len(plan), workers=12)
    errors = [r for r in results if isinstance(r, Exception)]
    assert all(getattr(e, "code", None) in ("insufficient_stock", "reservation_not_active") for e in errors), errors
    assert InboundShipment.objects.filter(status="received").count() == 3

    for sku in skus:
        received = StockMovement.objects.filter(sku=sku, reason="receipt", inbound__isnull=False)
        sellable_received = received.filter(state_to="").aggregate(total=Sum("delta"))["total"]
        allocated = sum(
            line.allocated
            for line in ReservationLine.objects.filter(sku=sku, reservation__status=ReservationStatus.ACTIVE)
        )
        assert allocated <= sellable_received
    assert_invariants(skus)

    # What is still waiting can be released; what is allocated can be committed.
    for reservation in Reservation.objects.filter(status=ReservationStatus.ACTIVE):
        if reservation.lines.filter(backordered__gt=0).exists():
            reservation_release(reservation=reservation)
        else:
            reservation_commit(reservation=reservation)
    assert_invariants(skus)
    assert not StockLevel.objects.filter(sku__in=skus, backordered__gt=0).exists()


def test_a_receipt_retried_with_one_key_concurrently_applies_once(main):
    sku = SKUFactory(sku_code="KEY-1", backorder_policy="allow_incoming")
    shipment = inbound_open(
        shipment=inbound_create(
            reference="PO-KEY", warehouse=main, lines=[InboundLineInput(sku=sku, quantity_expected=10)]
        )
    )
    reservation_create(reference="WAITING", lines=[ReservationRequestLine(sku=sku, quantity=4)], ttl_seconds=3600)
    client = token_client(UserFactory(is_superuser=True))
    body = {"lines": [{"sku_code": "KEY-1", "quantity": 6}]}
    start = time.monotonic() + 0.3

    def work(i):
        time.sleep(max(0.0, start - time.monotonic()))
        return client.post(
            f"/api/v1/stock/inbound/{shipment.pk}/receive/", body, format="json", HTTP_IDEMPOTENCY_KEY="receipt-1"
        )

    responses = in_threads(work, 10, workers=10)
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409} and 201 in statuses, statuses
    assert all(r.json()["code"] == "idempotency_key_in_use" for r in responses if r.status_code == 409)
    replay = client.post(
        f"/api/v1/stock/inbound/{shipment.pk}/receive/", body, format="json", HTTP_IDEMPOTENCY_KEY="receipt-1"
    )
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert StockMovement.objects.filter(inbound=shipment).count() == 1
    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.reserved, level.backordered, level.incoming) == (6, 4, 0, 4)
    assert InboundLine.objects.get(shipment=shipment).quantity_received == 6
    assert_invariants([sku])
