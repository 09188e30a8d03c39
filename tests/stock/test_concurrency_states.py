"""Real threads against PostgreSQL: state moves, write-offs and reservations racing on one level
never break `reserved + damaged + quality_control <= on_hand` nor oversell; split reservations
over several warehouses never deadlock."""

import random

import pytest
from django.db.models import Sum

from inventory_site import transactions
from inventory_site.exceptions import DomainError
from stock.models import Reservation, ReservationLine, StockLevel, StockMovement, Warehouse
from stock.services import (
    ReservationRequestLine,
    reservation_create,
    reservation_release,
    stock_adjust,
    stock_receive,
    stock_state_move,
)
from tests.stock.conftest import integrity_check
from tests.stock.factories import SKUFactory
from tests.stock.test_concurrency import in_threads

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def deadlocks(monkeypatch):
    """How many deadlocks PostgreSQL broke (each would have been retried)."""
    seen = []
    original = transactions.is_deadlock

    def counting(exc):
        found = original(exc)
        if found:
            seen.append(exc)
        return found

    monkeypatch.setattr(transactions, "is_deadlock", counting)
    return seen


@pytest.fixture
def warehouses():
    main, _ = Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main", "is_default": True})
    return [
        main,
        *(
            Warehouse.objects.create(code=code, name=code, priority=100 + n)
            for n, code in enumerate(("NORTH", "SOUTH", "WEST"))
        ),
    ]


def test_state_moves_and_reservations_on_one_level_keep_every_invariant(warehouses, deadlocks):
    main = warehouses[0]
    sku = SKUFactory()
    stock_receive(sku=sku, quantity=60)
    StockLevel.objects.filter(sku=sku).update(safety_stock=5)

    def work(i):
        rnd = random.Random(i)
        choice = i % 5
        if choice == 0:
            return stock_state_move(
                sku=sku,
                warehouse=main,
                quantity=rnd.randint(1, 4),
                from_state="sellable",
                to_state=rnd.choice(["damaged", "quality_control"]),
                reason="damage",
            )
        if choice == 1:
            return stock_state_move(
                sku=sku,
                warehouse=main,
                quantity=rnd.randint(1, 3),
                from_state=rnd.choice(["damaged", "quality_control"]),
                to_state="sellable",
                reason="correction",
            )
        if choice == 2:
            return stock_adjust(
                sku=sku, warehouse=main, delta=-rnd.randint(1, 2), reason="damage", from_state="damaged"
            )
        reservation = reservation_create(
            reference=f"R{i}", lines=[ReservationRequestLine(sku=sku, quantity=rnd.randint(1, 3))]
        )
        if rnd.random() < 0.3:
            return reservation_release(reservation=reservation)
        return reservation

    results = in_threads(work, 300)
    assert None not in results  # no thread died of an unexpected error
    assert {r.code for r in results if isinstance(r, DomainError)} <= {"insufficient_stock"}
    level = StockLevel.objects.get(sku=sku)
    assert level.reserved + level.damaged + level.quality_control <= level.on_hand
    # Reservations never took the safety stock: what they hold fits in what was not held back.
    assert level.reserved <= level.on_hand - level.damaged - level.quality_control
    held = ReservationLine.objects.filter(sku=sku, reservation__status="active").aggregate(total=Sum("quantity"))[
        "total"
    ]
    assert level.reserved == (held or 0)
    assert StockMovement.objects.filter(sku=sku, delta=0).count() == sum(
        1 for r in results if isinstance(r, tuple) and r[0].delta == 0
    )
    code, out = integrity_check()
    assert code == 0, out
    assert deadlocks == []


def test_split_reservations_over_warehouses_race_without_deadlock_or_oversell(warehouses, deadlocks, settings):
    skus = [SKUFactory() for _ in range(3)]
    for sku in skus:
        for warehouse in warehouses:
            stock_receive(sku=sku, warehouse=warehouse, quantity=10)  # 40 per SKU
    # One split before the race, so the race starts from levels a split already touched
    # (which reservations of the race win, and how they split, is up to the scheduler).
    first = reservation_create(
        reference="S-first", lines=[ReservationRequestLine(sku=skus[0], quantity=25)], allow_split=True
    )
    assert sorted(line.quantity for line in first.lines.all()) == [5, 10, 10]

    def work(i):
        rnd = random.Random(i)
        settings.STOCK_ALLOCATION_STRATEGY = rnd.choice(["priority", "most_stock"])
        lines = [ReservationRequestLine(sku=sku, quantity=rnd.randint(3, 14)) for sku in rnd.sample(skus, 2)]
        return reservation_create(reference=f"S{i}", lines=lines, allow_split=True)

    results = in_threads(work, 120)
    assert None not in results
    assert {r.code for r in results if isinstance(r, DomainError)} <= {"insufficient_stock"}
    won = [r for r in results if isinstance(r, Reservation)]
    assert won
    for sku in skus:
        reserved = StockLevel.objects.filter(sku=sku).aggregate(total=Sum("reserved"))["total"]
        lines = ReservationLine.objects.filter(sku=sku).aggregate(total=Sum("quantity"))["total"] or 0
        assert reserved == lines <= 40
        assert all(0 <= lvl.reserved <= lvl.on_hand for lvl in StockLevel.objects.filter(sku=sku))
    code, out = integrity_check()
    assert code == 0, out
    assert deadlocks == []
