"""One rule, one place: every bad quantity, delta, count or threshold is refused by the stock
service, with the service's message, through every face that can send it, and nothing is written.

A face added later that writes stock must be added to FACES.
"""

import pytest
from django.urls import reverse

from stock.models import Reservation, StockLevel, StockMovement
from stock.services import MAX_QUANTITY

BETWEEN_0 = f"Must be between 0 and {MAX_QUANTITY}."
BETWEEN_1 = f"Must be between 1 and {MAX_QUANTITY}."
DELTA_RANGE = f"Must be between -{MAX_QUANTITY} and {MAX_QUANTITY}."
NOT_ZERO = "Must not be zero."


def _api_adjust(api, sku, **amount):
    body = {"sku_code": sku.sku_code, "reason": "correction", **amount}
    response = api.post("/api/v1/stock/adjustments/", body, format="json")
    return response.status_code, response.json()["errors"]


def _api_bulk(api, sku, **amount):
    good = {"sku_code": sku.sku_code, "reason": "receipt", "delta": 1}
    body = {"lines": [good, {"sku_code": sku.sku_code, "reason": "correction", **amount}]}
    response = api.post("/api/v1/stock/adjustments/bulk/", body, format="json")
    return response.status_code, response.json()["errors"]["lines"]["1"]


def _admin_adjust(client, sku, *, delta=None, quantity=None):
    mode, amount = ("delta", delta) if delta is not None else ("count", quantity)
    level = StockLevel.objects.get(sku=sku)
    response = client.post(
        reverse("admin:stock_stocklevel_adjust"),
        {
            "sku_code": sku.sku_code,
            "warehouse": level.warehouse_id,
            "mode": mode,
            "amount": amount,
            "reason": "correction",
        },
    )
    field = "delta" if delta is not None else "quantity"
    return response.status_code, {field: response.context["form"].errors.get("amount", [])}


def _api_transfer(api, sku, *, quantity):
    body = {"sku_code": sku.sku_code, "from_warehouse": "MAIN", "to_warehouse": "EAST", "quantity": quantity}
    response = api.post("/api/v1/stock/transfers/", body, format="json")
    return response.status_code, response.json()["errors"]


def _api_reserve(api, sku, *, quantity):
    body = {"reference": "O-1", "lines": [{"sku_code": sku.sku_code, "quantity": quantity}]}
    response = api.post("/api/v1/stock/reservations/", body, format="json")
    return response.status_code, response.json()["errors"]["lines"]["0"]


def _api_threshold(api, sku, *, low_stock_threshold):
    level = StockLevel.objects.get(sku=sku)
    response = api.patch(
        f"/api/v1/stock/levels/{level.pk}/", {"low_stock_threshold": low_stock_threshold}, format="json"
    )
    return response.status_code, response.json()["errors"]


FACES = {
    "api adjust": _api_adjust,
    "api bulk": _api_bulk,
    "admin adjust": _admin_adjust,
    "api transfer": _api_transfer,
    "api reserve": _api_reserve,
    "api threshold": _api_threshold,
}

# (face, bad input, field, the service's message)
TABLE = [
    *[(face, {"delta": 0}, "delta", NOT_ZERO) for face in ("api adjust", "api bulk", "admin adjust")],
    *[
        (face, {"delta": value}, "delta", DELTA_RANGE)
        for face in ("api adjust", "api bulk", "admin adjust")
        for value in (-MAX_QUANTITY - 1, 2**31, 10**30)
    ],
    *[
        (face, {"quantity": value}, "quantity", BETWEEN_0)
        for face in ("api adjust", "api bulk", "admin adjust")
        for value in (-1, 2**31)
    ],
    ("api adjust", {"quantity": 5, "expected_on_hand": -1}, "expected_on_hand", BETWEEN_0),
    ("api adjust", {"delta": 5, "expected_on_hand": 10}, "expected_on_hand", "Only with quantity."),
    *[("api transfer", {"quantity": value}, "quantity", BETWEEN_1) for value in (0, -3, 2**31)],
    *[("api reserve", {"quantity": value}, "quantity", BETWEEN_1) for value in (0, -3, 2**31)],
    *[("api threshold", {"low_stock_threshold": value}, "low_stock_threshold", BETWEEN_0) for value in (-1, 2**31)],
]


def _state():
    return (
        list(StockLevel.objects.order_by("pk").values_list("on_hand", "reserved", "low_stock_threshold", "version")),
        StockMovement.objects.count(),
        Reservation.objects.count(),
    )


@pytest.mark.parametrize(("face", "bad", "field", "message"), TABLE, ids=[f"{face}-{bad}" for face, bad, _, _ in TABLE])
def test_bad_stock_value_refused_with_the_service_message(
    api, client, superuser, stocked, other, face, bad, field, message
):
    client.force_login(superuser)
    before = _state()
    status, errors = FACES[face](client if face.startswith("admin") else api, stocked, **bad)
    assert status in (200, 400), (status, errors)  # the admin shows its form again; the API answers 400
    assert errors[field] == [message]
    assert _state() == before
