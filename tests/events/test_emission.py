"""Every face emits through the services: one test per event type, and nothing for rolled-back work."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from events.models import Event
from stock.models import Reservation, StockLevel, Warehouse
from stock.services import reservations_expire


@pytest.fixture
def main(db) -> Warehouse:
    warehouse, _ = Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main", "is_default": True})
    return warehouse


def _events(**filters) -> list[Event]:
    return list(Event.objects.filter(**filters).order_by("id"))


def _types(since: int = 0) -> list[str]:
    return [e.type for e in Event.objects.filter(pk__gt=since).order_by("id")]


def _last_id() -> int:
    return Event.objects.order_by("-id").values_list("pk", flat=True).first() or 0


@pytest.fixture
def catalog(api, main):
    root = api.post("/api/v1/categories/", {"name": "Clothes"}, format="json").json()["data"]
    product = api.post("/api/v1/products/", {"name": "T-shirt", "category_id": root["id"]}, format="json").json()[
        "data"
    ]
    sku = api.post(
        "/api/v1/skus/", {"sku_code": "TEE-RED-M", "product_id": product["id"], "price": "19.99"}, format="json"
    ).json()["data"]
    return {"category": root, "product": product, "sku": sku}


def test_catalog_writes_through_the_api_emit_their_events(api, catalog):
    sku_id, product_id, category_id = catalog["sku"]["id"], catalog["product"]["id"], catalog["category"]["id"]
    assert _types() == ["catalog.category.created", "catalog.product.created", "catalog.sku.created"]
    created = _events(type="catalog.sku.created")[0]
    assert created.data["sku_code"] == "TEE-RED-M" and created.data["price"] == "19.99"
    assert created.aggregate == f"sku:{sku_id}" and created.sku_code == "TEE-RED-M"
    start = _last_id()
    assert api.patch(f"/api/v1/skus/{sku_id}/", {"price": "21.50"}, format="json").status_code == 200
    assert api.delete(f"/api/v1/skus/{sku_id}/").status_code == 204
    assert api.post(f"/api/v1/skus/{sku_id}/restore/").status_code == 200
    assert api.patch(f"/api/v1/products/{product_id}/", {"name": "Tee"}, format="json").status_code == 200
    assert api.delete(f"/api/v1/products/{product_id}/?cascade=true").status_code == 204
    assert api.post(f"/api/v1/products/{product_id}/restore/").status_code == 200
    assert api.patch(f"/api/v1/categories/{category_id}/", {"description": "x"}, format="json").status_code == 200
    other = api.post("/api/v1/categories/", {"name": "Sale"}, format="json").json()["data"]
    assert (
        api.post(
            f"/api/v1/categories/{other['id']}/move/",
            {"target_id": category_id, "position": "first-child"},
            format="json",
        ).status_code
        == 200
    )
    assert api.delete(f"/api/v1/categories/{other['id']}/").status_code == 204
    assert api.post(f"/api/v1/categories/{other['id']}/restore/").status_code == 200
    assert _types(start) == [
        "catalog.sku.updated",
        "catalog.sku.deleted",
        "catalog.sku.restored",
        "catalog.product.updated",
        "catalog.sku.deleted",
        "catalog.product.deleted",
        "catalog.product.restored",
        "catalog.sku.restored",
        "catalog.category.updated",
        "catalog.category.created",
        "catalog.category.moved",
        "catalog.category.deleted",
        "catalog.category.restored",
    ]
    assert _events(type="catalog.sku.updated")[0].data["price"] == "21.50"
    moved = _events(type="catalog.category.moved")[0]
    assert moved.data["parent_id"] == category_id and moved.data["path"] == "Clothes/Sale"


def test_stock_adjustments_emit_level_changes_and_crossings(api, catalog, main):
    start = _last_id()
    sku_code = catalog["sku"]["sku_code"]

    def adjust(delta):
        return api.post(
            "/api/v1/stock/adjustments/",
            {"sku_code": sku_code, "delta": delta, "reason": "receipt" if delta > 0 else "damage", "reference": "PO-7"},
            format="json",
        )

    assert adjust(5).status_code == 201
    level = StockLevel.objects.get()
    api.patch(f"/api/v1/stock/levels/{level.pk}/", {"low_stock_threshold": 2}, format="json")
    assert adjust(-3).status_code == 201  # 5 -> 2: low
    assert adjust(-2).status_code == 201  # 2 -> 0: out
    assert adjust(4).status_code == 201  # 0 -> 4: back in stock
    assert _types(start) == [
        "stock.level.changed",
        "stock.back_in_stock",  # the first receipt: 0 -> 5
        "stock.level.changed",
        "stock.low",
        "stock.level.changed",
        "stock.out",
        "stock.level.changed",
        "stock.back_in_stock",
    ]
    changed = _events(type="stock.level.changed", pk__gt=start)
    first = changed[0]
    assert first.aggregate == f"stock_level:{level.pk}" and first.reference == "PO-7"
    assert {k: first.data[k] for k in ("sku_code", "warehouse", "on_hand", "reserved", "available", "reason")} == {
        "sku_code": sku_code,
        "warehouse": "MAIN",
        "on_hand": 5,
        "reserved": 0,
        "available": 5,
        "reason": "receipt",
    }
    assert set(first.data["cause"]) == {"movement_id"}
    assert [e.data["version"] for e in changed] == sorted(e.data["version"] for e in changed)
    assert _events(type="stock.out")[0].data["available"] == 0


def test_reservations_emit_their_status_changes_and_levels(api, catalog, main):
    sku_code = catalog["sku"]["sku_code"]
    api.post("/api/v1/stock/adjustments/", {"sku_code": sku_code, "delta": 5, "reason": "receipt"}, format="json")
    start = _last_id()

    def body(ref):
        return {"reference": ref, "lines": [{"sku_code": sku_code, "quantity": 2}]}

    one = api.post("/api/v1/stock/reservations/", body("ORDER-1"), format="json").json()["data"]
    two = api.post("/api/v1/stock/reservations/", body("ORDER-2"), format="json").json()["data"]
    assert api.post(f"/api/v1/stock/reservations/{one['id']}/commit/").status_code == 200
    assert api.post(f"/api/v1/stock/reservations/{two['id']}/release/").status_code == 200
    assert _types(start) == [
        "stock.level.changed",
        "reservation.created",
        "stock.level.changed",
        "reservation.created",
        "stock.level.changed",
        "reservation.committed",
        "stock.level.changed",
        "reservation.released",
    ]
    created = _events(type="reservation.created")[0]
    assert created.reference == "ORDER-1" and created.sku_code == sku_code
    assert created.data["status"] == "active"
    assert created.data["lines"] == [
        {
            "id": one["lines"][0]["id"],
            "sku_id": catalog["sku"]["id"],
            "sku_code": sku_code,
            "warehouse": "MAIN",
            "quantity": 2,
            "allocated": 2,
            "backordered": 0,
        }
    ]
    held = _events(type="stock.level.changed", pk__gt=start)[0]
    assert held.data["reserved"] == 2 and held.data["cause"] == {"reservation_id": one["id"]}
    assert _events(type="reservation.committed")[0].data["status"] == "committed"


def test_expiry_by_the_job_and_the_command_emits_reservation_expired(api, catalog, main):
    sku_code = catalog["sku"]["sku_code"]
    api.post("/api/v1/stock/adjustments/", {"sku_code": sku_code, "delta": 5, "reason": "receipt"}, format="json")
    for ref in ("ORDER-A", "ORDER-B"):
        api.post(
            "/api/v1/stock/reservations/",
            {"reference": ref, "lines": [{"sku_code": sku_code, "quantity": 1}]},
            format="json",
        )
    Reservation.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    start = _last_id()
    assert reservations_expire(limit=1) == 1  # what the beat task runs
    call_command("release_expired_reservations")
    assert _types(start) == ["stock.level.changed", "reservation.expired", "stock.level.changed", "reservation.expired"]
    assert [e.reference for e in _events(type="reservation.expired")] == ["ORDER-A", "ORDER-B"]


def test_refused_work_emits_nothing(api, catalog, main):
    sku_code = catalog["sku"]["sku_code"]
    start = _last_id()
    bulk = api.post(
        "/api/v1/stock/adjustments/bulk/",
        {
            "lines": [
                {"sku_code": sku_code, "delta": 5, "reason": "receipt"},
                {"sku_code": sku_code, "delta": -50, "reason": "damage"},
            ]
        },
        format="json",
    )
    assert bulk.status_code == 409  # all or nothing: the first line rolled back with the second
    short = api.post(
        "/api/v1/stock/reservations/",
        {"reference": "X", "lines": [{"sku_code": sku_code, "quantity": 9}]},
        format="json",
    )
    assert short.status_code == 409
    taken = api.post(
        "/api/v1/skus/",
        {"sku_code": "tee-red-m", "product_id": catalog["product"]["id"], "price": "1.00"},
        format="json",
    )
    assert taken.status_code == 409
    assert _types(start) == []
