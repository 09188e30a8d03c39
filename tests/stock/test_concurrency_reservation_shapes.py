"""Every shape of reservation through the one path, at once, on real threads: each request
answered 201, 409 or 400 (never a 5xx), nothing oversold, no deadlock, ledger and levels agree."""

import random

import pytest
from django.db.models import F, Sum

from catalog.models import BackorderPolicy
from stock.models import ReservationLine, StockLevel, Warehouse
from stock.services import InboundLineInput, inbound_create, inbound_open, stock_receive
from tests.conftest import token_client
from tests.factories import UserFactory
from tests.stock.conftest import integrity_check
from tests.stock.factories import SKUFactory
from tests.stock.test_concurrency import in_threads
from tests.stock.test_concurrency_lock_order import deadlocks_broken

pytestmark = [pytest.mark.django_db(transaction=True)]
URL = "/api/v1/stock/reservations/"


@pytest.fixture
def shop():
    """MAIN (default), NORTH, SOUTH; TEE 10 units in each; MUG 6 at NORTH only; PRE (backorders
    allowed) 5 at MAIN with 20 more incoming there."""
    main, _ = Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main", "is_default": True})
    north = Warehouse.objects.create(code="NORTH", name="North", priority=50)
    south = Warehouse.objects.create(code="SOUTH", name="South")
    tee, mug = SKUFactory(sku_code="TEE"), SKUFactory(sku_code="MUG")
    pre = SKUFactory(sku_code="PRE", backorder_policy=BackorderPolicy.ALLOW_INCOMING)
    for warehouse in (main, north, south):
        stock_receive(sku=tee, warehouse=warehouse, quantity=10)
    stock_receive(sku=mug, warehouse=north, quantity=6)
    stock_receive(sku=pre, warehouse=main, quantity=5)
    inbound_open(
        shipment=inbound_create(
            reference="PO-PRE", warehouse=main, lines=[InboundLineInput(sku=pre, quantity_expected=20)]
        )
    )
    return {"tee": tee, "mug": mug, "pre": pre}


def body(i: int) -> dict:
    """Request `i`: one of the shapes, a few units each."""
    rnd = random.Random(i)
    shape = i % 7
    if shape == 0:  # one line, placed by the strategy
        lines = [{"sku_code": "TEE", "quantity": rnd.randint(1, 3)}]
    elif shape == 1:  # a named warehouse
        lines = [{"sku_code": "tee", "quantity": rnd.randint(1, 3), "warehouse": rnd.choice(["main", "SOUTH"])}]
    elif shape == 2:  # several lines, several SKUs, in either order
        lines = [{"sku_code": "MUG", "quantity": 1}, {"sku_code": "TEE", "quantity": 2}][:: rnd.choice([1, -1])]
    elif shape == 3:  # more than any one warehouse holds: split
        return {"reference": f"R-{i}", "allow_split": True, "lines": [{"sku_code": "TEE", "quantity": 11}]}
    elif shape == 4:  # backordered against incoming stock
        return {"reference": f"R-{i}", "ttl_seconds": 30 * 24 * 3600, "lines": [{"sku_code": "PRE", "quantity": 3}]}
    elif shape == 5:  # two lines of one level
        lines = [
            {"sku_code": "TEE", "quantity": 1, "warehouse": "NORTH"},
            {"sku_code": "TEE", "quantity": 1, "warehouse": "NORTH"},
        ]
    else:  # refused: an unknown code beside a good line
        lines = [{"sku_code": "TEE", "quantity": 1}, {"sku_code": "NOPE", "quantity": 1}]
    return {"reference": f"R-{i}", "lines": lines}


@pytest.mark.parametrize("strategy", ["priority", "most_stock"])
def test_every_shape_at_once_never_oversells_nor_deadlocks(shop, settings, strategy):
    settings.STOCK_ALLOCATION_STRATEGY = strategy
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 0  # one client sends them all
    client = token_client(UserFactory(is_superuser=True))
    before = deadlocks_broken()

    def work(i):
        response = client.post(URL, body(i), format="json")
        return response.status_code, response.json()

    results = in_threads(work, 120)
    statuses = {status for status, _ in results}
    assert statuses <= {201, 400, 409}, results
    assert 201 in statuses and 409 in statuses and 400 in statuses
    for (status, payload), i in zip(results, range(120), strict=True):
        if i % 7 == 6:
            assert status == 400 and payload["errors"] == {"lines": {"1": {"sku_code": ["No SKU with this code."]}}}
        if status == 409:
            assert payload["code"] == "insufficient_stock" and payload["errors"]["lines"]
    assert deadlocks_broken() == before
    # Nothing oversold: each level holds what its lines hold, within what is on hand and incoming.
    for level in StockLevel.objects.all():
        lines = ReservationLine.objects.filter(sku_id=level.sku_id, warehouse_id=level.warehouse_id)
        totals = lines.aggregate(quantity=Sum("quantity"), backordered=Sum("backordered"))
        allocated = (totals["quantity"] or 0) - (totals["backordered"] or 0)
        assert (level.reserved, level.backordered) == (allocated, totals["backordered"] or 0)
        assert level.reserved <= level.on_hand and level.backordered <= level.incoming
    assert not StockLevel.objects.filter(reserved__gt=F("on_hand")).exists()
    won = [payload["data"] for status, payload in results if status == 201]
    assert (
        sum(line["allocated"] for r in won for line in r["lines"] if line["sku_code"] == "TEE")
        == (StockLevel.objects.filter(sku=shop["tee"]).aggregate(total=Sum("reserved"))["total"])
    )
    assert integrity_check()[0] == 0


def test_a_plan_gone_stale_is_placed_again_under_the_locks_and_refused_with_the_new_figures(shop):
    """A reservation plans 10 TEE at MAIN from the committed figures while a correction holding
    MAIN's lock takes 5: its UPDATE then finds too little (40001, nothing kept), and the same
    function, placing again under the locks, refuses it naming what is left."""
    import threading
    import time

    from django.db import connection, transaction

    from stock.exceptions import LinesRefused
    from stock.services import CodedLine, reservation_create, stock_adjust

    main = Warehouse.objects.get(code="MAIN")
    locked, done = threading.Event(), threading.Event()

    def correction():
        try:
            with transaction.atomic():
                stock_adjust(sku=shop["tee"], warehouse=main, delta=-5, reason="correction")
                locked.set()
                done.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=correction)
    thread.start()
    assert locked.wait(10)

    def release_when_waiting():
        # Let the correction commit once the reservation waits on MAIN's row lock.
        with connection.cursor() as cursor:
            for _ in range(200):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database()"
                )
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.02)
        connection.close()
        done.set()

    watcher = threading.Thread(target=release_when_waiting)
    watcher.start()
    with pytest.raises(LinesRefused) as refused:
        reservation_create(reference="STALE", lines=[CodedLine("TEE", 10, "MAIN")])
    thread.join()
    watcher.join()
    assert refused.value.code == "insufficient_stock"
    assert refused.value.errors == {"lines": {"0": {"sku_code": "TEE", "available": 5, "requested": 10}}}
    assert StockLevel.objects.get(sku=shop["tee"], warehouse=main).reserved == 0
