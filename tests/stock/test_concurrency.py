"""Real threads against PostgreSQL: no oversell, ledger and levels agree, keys apply once."""

import queue
import random
import threading
import time

import pytest
from django.db import connection
from django.db.models import Sum

from inventory_site.exceptions import DomainError
from stock.models import Reservation, ReservationLine, StockLevel, StockMovement, Warehouse
from stock.services import (
    ReservationRequestLine,
    reservation_commit,
    reservation_create,
    reservation_release,
    stock_adjust,
    stock_receive,
    stock_transfer,
)
from tests.conftest import token_client
from tests.factories import UserFactory
from tests.stock.conftest import integrity_check
from tests.stock.factories import SKUFactory

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def warehouses():
    # Transactional tests start from a flushed database: bring back the default warehouse.
    main, _ = Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main", "is_default": True})
    east = Warehouse.objects.create(code="EAST", name="East")
    return main, east


def in_threads(work, count: int, workers: int = 16) -> list:
    """Run `work(i)` for i in range(count) on `workers` threads; a DomainError is returned, not raised.

    Each thread keeps one database connection and closes it when done.
    """
    jobs: queue.SimpleQueue = queue.SimpleQueue()
    for i in range(count):
        jobs.put(i)
    results: list = [None] * count

    def worker():
        try:
            while True:
                try:
                    i = jobs.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[i] = work(i)
                except DomainError as exc:
                    results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_200_reservations_race_for_100_units(warehouses):
    sku = SKUFactory()
    stock_receive(sku=sku, quantity=100)

    results = in_threads(
        lambda i: reservation_create(reference=f"O-{i}", lines=[ReservationRequestLine(sku=sku, quantity=1)]), 200
    )
    won = [r for r in results if isinstance(r, Reservation)]
    lost = [r for r in results if isinstance(r, DomainError)]
    assert len(won) == 100 and len(lost) == 100
    assert {e.code for e in lost} == {"insufficient_stock"}
    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.reserved) == (100, 100)
    assert ReservationLine.objects.aggregate(total=Sum("quantity"))["total"] == 100
    assert integrity_check()[0] == 0


def test_commits_and_releases_race(warehouses):
    sku = SKUFactory()
    stock_receive(sku=sku, quantity=50)
    reservations = [
        reservation_create(reference=f"O-{i}", lines=[ReservationRequestLine(sku=sku, quantity=1)]) for i in range(50)
    ]
    # Every reservation gets a commit and a release at the same time: exactly one wins.
    results = in_threads(
        lambda i: (reservation_commit if i % 2 else reservation_release)(reservation=reservations[i // 2].pk), 100
    )
    assert sum(isinstance(r, DomainError) for r in results) == 50
    assert {r.code for r in results if isinstance(r, DomainError)} == {"reservation_not_active"}
    level = StockLevel.objects.get(sku=sku)
    committed = Reservation.objects.filter(status="committed").count()
    assert (level.on_hand, level.reserved) == (50 - committed, 0)
    assert integrity_check()[0] == 0


def test_adjustments_transfers_and_reservations_keep_invariants(warehouses):
    main, east = warehouses
    sku = SKUFactory()
    stock_receive(sku=sku, quantity=40)
    stock_receive(sku=sku, quantity=40, warehouse=east)

    def work(i):
        rnd = random.Random(i)
        choice = i % 4
        if choice == 0:
            return stock_adjust(
                sku=sku, warehouse=rnd.choice(warehouses), delta=rnd.choice([-3, -1, 2, 5]), reason="correction"
            )
        if choice == 1:
            src, dst = rnd.sample(warehouses, 2)
            return stock_transfer(sku=sku, from_warehouse=src, to_warehouse=dst, quantity=rnd.randint(1, 6))
        if choice == 2:
            reservation = reservation_create(
                reference=f"R{i}", lines=[ReservationRequestLine(sku=sku, quantity=rnd.randint(1, 4))]
            )
            if rnd.random() < 0.5:
                return reservation_commit(reservation=reservation)
            return reservation
        return stock_adjust(sku=sku, warehouse=rnd.choice(warehouses), quantity=rnd.randint(0, 60), reason="count")

    results = in_threads(work, 240)
    assert all(
        getattr(r, "code", "insufficient_stock") == "insufficient_stock" for r in results if isinstance(r, DomainError)
    )
    for level in StockLevel.objects.filter(sku=sku):
        assert 0 <= level.reserved <= level.on_hand
        ledger = StockMovement.objects.filter(sku=sku, warehouse=level.warehouse).aggregate(total=Sum("delta"))["total"]
        assert level.on_hand == ledger
        held = ReservationLine.objects.filter(
            sku=sku, warehouse=level.warehouse, reservation__status="active"
        ).aggregate(total=Sum("quantity"))["total"]
        assert level.reserved == (held or 0)
    code, out = integrity_check()
    assert code == 0, out


def test_same_idempotency_key_concurrently_applies_once(warehouses):
    sku = SKUFactory()
    client = token_client(UserFactory(is_superuser=True))
    body = {"sku_code": sku.sku_code, "delta": 5, "reason": "receipt"}
    barrier_start = time.monotonic() + 0.3

    def work(i):
        time.sleep(max(0.0, barrier_start - time.monotonic()))
        return client.post("/api/v1/stock/adjustments/", body, HTTP_IDEMPOTENCY_KEY="same-key")

    responses = in_threads(work, 12, workers=12)
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    assert statuses.count(201) >= 1
    assert all(r.json()["code"] == "idempotency_key_in_use" for r in responses if r.status_code == 409)
    assert StockMovement.objects.filter(sku=sku).count() == 1
    assert StockLevel.objects.get(sku=sku).on_hand == 5
    replay = client.post("/api/v1/stock/adjustments/", body, HTTP_IDEMPOTENCY_KEY="same-key")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert StockMovement.objects.filter(sku=sku).count() == 1


def test_expiry_restores_availability_under_load(warehouses):
    sku = SKUFactory()
    stock_receive(sku=sku, quantity=100)
    for i in range(10):
        reservation_create(reference=f"OLD-{i}", lines=[ReservationRequestLine(sku=sku, quantity=10)], ttl_seconds=1)
    assert reservation_create.__name__  # all 100 units held
    time.sleep(1.2)
    results = in_threads(
        lambda i: reservation_create(reference=f"NEW-{i}", lines=[ReservationRequestLine(sku=sku, quantity=2)]), 80
    )
    assert sum(isinstance(r, Reservation) for r in results) == 50
    level = StockLevel.objects.get(sku=sku)
    assert (level.on_hand, level.reserved) == (100, 100)
    assert Reservation.objects.filter(reference__startswith="OLD", status="expired").count() == 10
    assert integrity_check()[0] == 0


def test_check_integrity_detects_injected_drift(warehouses):
    sku = SKUFactory()
    stock_receive(sku=sku, quantity=10)
    assert integrity_check()[0] == 0
    StockLevel.objects.filter(sku=sku).update(on_hand=11)
    code, out = integrity_check()
    assert code == 1 and "ledger sum 10" in out


def test_two_threshold_writers_with_one_version(warehouses):
    from stock.services import stock_level_update_threshold

    sku = SKUFactory()
    stock_receive(sku=sku, quantity=1)
    level = StockLevel.objects.get(sku=sku)
    start = time.monotonic() + 0.3

    def work(i):
        time.sleep(max(0.0, start - time.monotonic()))
        return stock_level_update_threshold(level=level, low_stock_threshold=i + 1, expected_version=level.version)

    results = in_threads(work, 2, workers=2)
    assert sorted(type(r).__name__ for r in results) == ["StockLevel", "VersionConflict"]
    assert StockLevel.objects.get(sku=sku).version == level.version + 1
