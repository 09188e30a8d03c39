"""POST /stock/reservations/: a plain body is parsed without the serializer; every body takes the one service."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events.models import Event
from stock.api.plain import plain_reservation
from stock.models import Reservation, StockLevel

URL = "/api/v1/stock/reservations/"


@pytest.mark.parametrize(
    "body",
    [
        {"reference": "O", "ttl_seconds": None, "lines": [{"sku_code": "A", "quantity": 1}]},
        {"reference": "O", "lines": [{"sku_code": "A", "quantity": True}]},
        {"reference": "O", "lines": [{"sku_code": "A", "quantity": 1.0}]},
        {"reference": "O", "lines": [{"sku_code": "A", "quantity": 0}]},
        {"reference": "O", "lines": [{"sku_code": "A", "quantity": 2**31}]},
        {"reference": "O", "lines": [{"sku_code": "A", "quantity": 1, "warehouse": None}]},
        {"reference": "O", "lines": [{"sku_code": "A", "quantity": 1, "warehouse": "W" * 21}]},
        {"reference": "O", "lines": [{"sku_id": 1, "quantity": 1}]},
        {"reference": "O", "lines": [{"sku_code": "A\x00", "quantity": 1}]},
        {"reference": "   ", "lines": [{"sku_code": "A", "quantity": 1}]},
        {"reference": "R" * 101, "lines": [{"sku_code": "A", "quantity": 1}]},
        {"reference": "O", "lines": []},
        {"reference": "O", "lines": [["A", 1]]},
        {"reference": "O", "lines": [{"sku_code": "A", "quantity": 1}], "extra": 1},
        ["not", "an", "object"],
    ],
)
def test_anything_not_plain_goes_to_the_serializer(body):
    assert plain_reservation(body) is None


def test_plain_body_is_trimmed_like_the_serializer():
    plain = plain_reservation(
        {"reference": " O-1 ", "ttl_seconds": 60, "lines": [{"sku_code": " A ", "quantity": 2, "warehouse": "east"}]}
    )
    assert plain.reference == "O-1" and plain.ttl_seconds == 60
    assert [(ln.sku_code, ln.quantity, ln.warehouse_code) for ln in plain.lines] == [("A", 2, "east")]


@pytest.mark.django_db
def test_plain_reservation_costs_the_token_and_one_call_with_its_events(api, stocked, main):
    with CaptureQueriesContext(connection) as captured:
        response = api.post(URL, {"reference": "ORDER-1", "lines": [{"sku_code": stocked.sku_code, "quantity": 2}]})
    assert response.status_code == 201, response.json()
    # Without the savepoints of the test's own transaction: the token, then the reservation
    # with its lines and events in one call (no read-back).
    sql = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(sql) == 2 and "authtoken_token" in sql[0] and "stock_reservation_place(" in sql[1]
    assert list(Event.objects.values_list("type", flat=True).order_by("-id")[:2]) == [
        "reservation.created",
        "stock.level.changed",
    ]
    data = response.json()["data"]
    assert data["status"] == "active" and data["lines"][0]["warehouse"] == "MAIN"
    assert StockLevel.objects.get().reserved == 2


@pytest.mark.django_db
def test_largest_quantity_beside_reserved_stock_is_insufficient_not_a_500(api, stocked, main):
    assert (
        api.post(URL, {"reference": "A", "lines": [{"sku_code": stocked.sku_code, "quantity": 1}]}).status_code == 201
    )
    response = api.post(URL, {"reference": "B", "lines": [{"sku_code": stocked.sku_code, "quantity": 2**31 - 1}]})
    assert response.status_code == 409 and response.json()["code"] == "insufficient_stock"
    assert response.json()["errors"] == {
        "lines": {"0": {"sku_code": stocked.sku_code, "available": 9, "requested": 2**31 - 1}}
    }
    assert StockLevel.objects.get().reserved == 1 and Reservation.objects.count() == 1


@pytest.mark.django_db
def test_two_lines_of_one_level(api, stocked, main):
    response = api.post(
        URL,
        {
            "reference": "O",
            "lines": [{"sku_code": stocked.sku_code, "quantity": 4}, {"sku_code": stocked.sku_code, "quantity": 6}],
        },
    )
    assert response.status_code == 201
    assert [ln["quantity"] for ln in response.json()["data"]["lines"]] == [4, 6]
    assert StockLevel.objects.get().reserved == 10


@pytest.mark.django_db
def test_plain_and_serializer_parsed_bodies_answer_alike(api, stocked, main):
    fast = api.post(URL, {"reference": "O", "lines": [{"sku_code": stocked.sku_code, "quantity": 1}]}).json()
    general = api.post(
        URL, {"reference": "O", "allow_split": True, "lines": [{"sku_id": stocked.pk, "quantity": 1}]}
    ).json()
    for body in (fast, general):
        for key in ("id", "expires_at", "created_at", "updated_at"):
            body["data"].pop(key)
        body["data"]["lines"][0].pop("id")
    assert fast == general


@pytest.mark.django_db
def test_hand_built_representation_is_the_serializers(stocked, main, other):
    from stock.api.serializers import ReservationSerializer, reservation_representation
    from stock.services import CodedLine, reservation_create, stock_receive

    stock_receive(sku=stocked, quantity=3, warehouse=other)
    reservation = reservation_create(
        reference="O-9", ttl_seconds=60, lines=[CodedLine(stocked.sku_code, 2, "EAST"), CodedLine(stocked.sku_code, 1)]
    )
    stored = Reservation.objects.prefetch_related("lines__sku", "lines__warehouse").get(pk=reservation.pk)
    assert reservation_representation(reservation) == dict(ReservationSerializer(stored).data)
