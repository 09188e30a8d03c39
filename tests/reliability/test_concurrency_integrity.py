"""Concurrent writers through the live API (gunicorn, several worker processes), then
`manage.py check_integrity`: the category tree stays a sound mptt tree under concurrent
inserts and moves, and stock stays consistent (ledger = levels, no oversell) under mixed
reservations, commits, releases, adjustments and transfers."""

import random
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import httpx
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from rest_framework.authtoken.models import Token

from catalog.models import Category
from stock.models import ReservationLine, StockLevel, StockMovement
from tests.factories import UserFactory
from tests.reliability.world import build_world

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
THREADS = 8


def check_integrity() -> str:
    out = StringIO()
    try:
        call_command("check_integrity", stdout=out, stderr=out)
    except SystemExit as exc:
        raise AssertionError(f"check_integrity exit {exc.code}:\n{out.getvalue()}") from None
    return out.getvalue()


@pytest.fixture
def live(gunicorn_server):
    w = build_world()
    user = UserFactory(username="racer", is_superuser=True)
    headers = {"Authorization": f"Token {Token.objects.create(user=user).key}"}
    return w, gunicorn_server, headers


def test_concurrent_category_inserts_and_moves_keep_the_tree_sound(live):
    w, server, headers = live
    roots = [w.root.id, w.spare.id, w.leaf.id]

    def worker(n: int) -> list[int]:
        rng = random.Random(n)
        statuses = []
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            mine = []
            for i in range(12):
                ids = roots + mine
                if i % 3 == 2 and mine:
                    response = client.post(
                        f"/api/v1/categories/{rng.choice(mine)}/move/",
                        json={
                            "target_id": rng.choice(ids),
                            "position": rng.choice(["first-child", "last-child", "left", "right"]),
                        },
                    )
                elif i % 3 == 1 and mine:
                    response = client.patch(
                        f"/api/v1/categories/{rng.choice(mine)}/", json={"parent_id": rng.choice(ids)}
                    )
                else:
                    response = client.post(
                        "/api/v1/categories/", json={"name": f"C{n}-{i}", "parent_id": rng.choice(ids)}
                    )
                    if response.status_code == 201:
                        mine.append(response.json()["data"]["id"])
                statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = [s for batch in pool.map(worker, range(THREADS)) for s in batch]
    assert not [s for s in statuses if s >= 500], statuses
    assert statuses.count(201) >= THREADS
    assert set(statuses) <= {200, 201, 400, 409}, set(statuses)
    check_integrity()
    # The denormalized path and level follow every move.
    by_id = {c.id: c for c in Category.all_objects.all()}
    for category in by_id.values():
        names, node = [], category
        while node is not None:
            names.append(node.name)
            node = by_id.get(node.parent_id)
        assert category.path == "/".join(reversed(names)), category
        assert category.level == len(names) - 1


def test_mixed_stock_traffic_keeps_the_ledger_and_never_oversells(live):
    w, server, headers = live
    skus = [w.sku.sku_code, w.spare_sku.sku_code]
    received = {code: StockLevel.objects.filter(sku__sku_code=code).aggregate(s=Sum("on_hand"))["s"] for code in skus}

    def worker(n: int) -> list[int]:
        rng = random.Random(n)
        statuses = []
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            held = []
            for i in range(15):
                code = rng.choice(skus)
                roll = rng.random()
                if roll < 0.45:
                    response = client.post(
                        "/api/v1/stock/reservations/",
                        json={"reference": f"R{n}-{i}", "lines": [{"sku_code": code, "quantity": rng.randint(1, 4)}]},
                    )
                    if response.status_code == 201:
                        held.append(response.json()["data"]["id"])
                elif roll < 0.65 and held:
                    action = rng.choice(["commit", "release"])
                    response = client.post(f"/api/v1/stock/reservations/{held.pop()}/{action}/")
                elif roll < 0.85:
                    response = client.post(
                        "/api/v1/stock/adjustments/",
                        json={"sku_code": code, "delta": rng.choice([-2, -1, 1, 3]), "reason": "correction"},
                    )
                else:
                    source, target = rng.sample(["MAIN", "WEST"], 2)
                    response = client.post(
                        "/api/v1/stock/transfers/",
                        json={"sku_code": code, "from_warehouse": source, "to_warehouse": target, "quantity": 1},
                    )
                statuses.append(response.status_code)
        return statuses

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = [s for batch in pool.map(worker, range(THREADS)) for s in batch]
    assert not [s for s in statuses if s >= 500], statuses
    assert set(statuses) <= {200, 201, 400, 409}, set(statuses)
    assert statuses.count(201) > THREADS
    connection.close()
    check_integrity()
    for level in StockLevel.objects.all():
        assert 0 <= level.reserved <= level.on_hand
        assert (
            level.on_hand
            == StockMovement.objects.filter(sku=level.sku, warehouse=level.warehouse).aggregate(s=Sum("delta"))["s"]
        )
    # Never oversold: what is sold or held never exceeds what came in (receipts and positive adjustments).
    for code in skus:
        sold = -(StockMovement.objects.filter(sku__sku_code=code, reason="sale").aggregate(s=Sum("delta"))["s"] or 0)
        held = (
            ReservationLine.objects.filter(sku__sku_code=code, reservation__status="active").aggregate(
                s=Sum("quantity")
            )["s"]
            or 0
        )
        came_in = received[code] + (
            StockMovement.objects.filter(sku__sku_code=code, delta__gt=0)
            .exclude(reference="SEED")
            .exclude(reason__in=["transfer_in"])
            .aggregate(s=Sum("delta"))["s"]
            or 0
        )
        assert sold + held <= came_in, (code, sold, held, came_in)
