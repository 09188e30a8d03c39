"""Real threads against PostgreSQL: every path that locks more than one level does so in the one
order, (sku_id, warehouse_id). Each path below gets its levels in the reverse of that order (the
request, the sheet, the shipment list them backwards) and they race on the same four levels:
under a mixed order two of them would each hold a level the other waits for, and PostgreSQL
would break the deadlock. `pg_stat_database.deadlocks` counts every deadlock it broke, the
retried ones too, so the race must leave it where it was."""

import random
import time

import pytest
from django.db import connection

from stock.models import InboundShipment, Reservation, ReservationLine, StockLevel, Warehouse
from stock.selectors_integrity import stock_drifts
from stock.services import (
    CodedLine,
    InboundLineInput,
    ReceiptLine,
    ReservationRequestLine,
    counts,
    inbound_cancel,
    inbound_create,
    inbound_open,
    inbound_receive,
    reservation_commit,
    reservation_create,
    reservation_release,
    stock_adjust_bulk,
    stock_receive,
    stock_transfer,
)
from stock.services.counts import CountLine, stock_count_apply
from tests.stock.conftest import integrity_check
from tests.stock.factories import SKUFactory
from tests.stock.test_concurrency import in_threads

pytestmark = [pytest.mark.django_db(transaction=True)]

EXPECTED_REFUSALS = {
    "insufficient_stock",
    "reservation_not_active",
    "validation_error",
    "version_conflict",
    "inbound_not_open",
}


def deadlocks_broken() -> int:
    """PostgreSQL's count of deadlocks broken in this database, once the threads' backends have
    gone (a backend reports its counters when it exits)."""
    with connection.cursor() as cursor:
        for _ in range(100):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.05)
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


@pytest.fixture
def world(monkeypatch):
    """Two SKUs in two warehouses (four levels of 1,000 units), a preorder SKU with nothing on hand,
    open shipments of all three to both warehouses."""
    main, _ = Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main", "is_default": True})
    east = Warehouse.objects.create(code="EAST", name="East", priority=200)
    skus = [SKUFactory(sku_code=f"ORDER-{n}") for n in range(2)]
    for sku in skus:
        for warehouse in (main, east):
            stock_receive(sku=sku, warehouse=warehouse, quantity=1000)
    # Backwards: every list below names the levels in the reverse of the lock order.
    levels = sorted(((sku, w) for sku in skus for w in (main, east)), key=lambda p: (p[0].pk, p[1].pk), reverse=True)
    preorder = SKUFactory(sku_code="ORDER-PRE", backorder_policy="allow_incoming")
    shipments = [
        inbound_open(
            shipment=inbound_create(
                reference=f"PO-{warehouse.code}-{n}",
                warehouse=warehouse,
                lines=[InboundLineInput(sku=sku, quantity_expected=500) for sku in [preorder, *skus[::-1]]],
            )
        )
        for n in range(3)
        for warehouse in (main, east)
    ]
    monkeypatch.setattr(counts, "ADJUST_CHUNK", 1)  # a sheet of several chunks in one transaction
    return {"main": main, "east": east, "skus": skus, "levels": levels, "shipments": shipments, "preorder": preorder}


def test_every_multi_level_path_races_on_the_same_levels_without_a_deadlock(world):
    skus, levels, shipments = world["skus"], world["levels"], world["shipments"]
    held = [
        reservation_create(
            reference=f"HELD-{n}",
            ttl_seconds=3600,
            lines=[ReservationRequestLine(sku=sku, warehouse=warehouse, quantity=1) for sku, warehouse in levels],
        )
        for n in range(40)
    ]
    preorder = world["preorder"]
    # Waiting on the shipments: each receipt allocates to them, oldest first, in the race.
    for n in range(20):
        reservation_create(
            reference=f"WAIT-{n}",
            ttl_seconds=3600,
            lines=[ReservationRequestLine(sku=preorder, warehouse=(world["main"], world["east"])[n % 2], quantity=3)],
        )
    kinds = (
        ["place"] * 40
        + ["preorder"] * 20
        + ["reserve"] * 40
        + ["receive"] * 30
        + ["transfer"] * 30
        + ["bulk"] * 30
        + ["count"] * 20
        + ["commit"] * 20
        + ["release"] * 20
        + ["cancel"] * 2
    )
    random.Random(14).shuffle(kinds)
    before = deadlocks_broken()

    def work(i):
        kind, rnd = kinds[i], random.Random(i)
        if kind == "place":  # what POST /stock/reservations/ sends: codes
            return reservation_create(
                reference=f"P{i}",
                ttl_seconds=600,
                lines=[
                    CodedLine(sku_code=sku.sku_code, warehouse_code=warehouse.code, quantity=1)
                    for sku, warehouse in levels
                ],
            )
        if kind == "reserve":
            return reservation_create(
                reference=f"R{i}",
                ttl_seconds=600,
                lines=[ReservationRequestLine(sku=sku, warehouse=warehouse, quantity=1) for sku, warehouse in levels],
            )
        if kind == "preorder":  # takes what is there, backorders the rest against the shipments
            return reservation_create(
                reference=f"PRE{i}",
                ttl_seconds=3600,
                lines=[
                    ReservationRequestLine(sku=preorder, warehouse=(world["main"], world["east"])[i % 2], quantity=2)
                ],
            )
        if kind == "receive":
            return inbound_receive(
                shipment=shipments[i % 4],
                allow_over_receipt=True,
                lines=[ReceiptLine(sku=sku, quantity=1) for sku in [preorder, *skus[::-1]]],
            )
        if kind == "transfer":
            sku = rnd.choice(skus)
            source, target = (world["east"], world["main"]) if i % 2 else (world["main"], world["east"])
            return stock_transfer(sku=sku, from_warehouse=source, to_warehouse=target, quantity=1)
        if kind == "bulk":
            return stock_adjust_bulk(
                lines=[
                    {"sku": sku, "warehouse": warehouse, "delta": 1, "reason": "correction"}
                    for sku, warehouse in levels
                ]
            )
        if kind == "count":  # one level per chunk, all chunks in one transaction
            return stock_count_apply(
                lines=[
                    CountLine(line=n + 2, sku_code=sku.sku_code, warehouse_code=warehouse.code, counted=str(2000 + i))
                    for n, (sku, warehouse) in enumerate(levels)
                ]
            )
        if kind == "cancel":
            return inbound_cancel(shipment=shipments[4 + kinds[:i].count("cancel")])  # each its own
        finish = reservation_commit if kind == "commit" else reservation_release
        return finish(reservation=held[i % len(held)].pk)

    def guarded(i):  # any database error (a deadlock not retried) is returned and fails below
        try:
            return work(i)
        except Exception as exc:  # noqa: BLE001
            return exc

    results = in_threads(guarded, len(kinds), workers=12)
    unexpected = [r for r in results if isinstance(r, Exception) and getattr(r, "code", None) not in EXPECTED_REFUSALS]
    assert unexpected == []
    assert deadlocks_broken() == before
    # Every path did run its writes (not only refused): the race was real.
    assert sum(isinstance(r, Reservation) for r, kind in zip(results, kinds, strict=True) if kind == "place") > 0
    assert sum(isinstance(r, Reservation) for r, kind in zip(results, kinds, strict=True) if kind == "reserve") > 0
    assert (
        sum(
            isinstance(r, tuple)
            for r, kind in zip(results, kinds, strict=True)
            if kind in ("receive", "transfer", "bulk")
        )
        > 60
    )
    assert InboundShipment.objects.filter(status="cancelled").count() == 2
    # Receipts allocated waiting lines on the way, oldest reservation first.
    assert ReservationLine.objects.filter(
        sku=preorder, reservation__reference__startswith="WAIT-", backordered=0
    ).exists()
    assert stock_drifts() == []
    code, out = integrity_check()
    assert code == 0, out
    for level in StockLevel.objects.all():
        assert level.reserved + level.damaged + level.quality_control <= level.on_hand
