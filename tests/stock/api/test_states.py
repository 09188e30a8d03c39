"""The quantity states through the API: state moves, write-offs, level settings, and the one
`available` in levels, SKU sums (every path), filters and ordering."""

import pytest

from events.models import Event
from stock.models import StockLevel, StockMovement
from stock.services import stock_receive, stock_state_move
from tests.stock.factories import SKUFactory

pytestmark = pytest.mark.django_db
MOVES = "/api/v1/stock/state-moves/"
LEVELS = "/api/v1/stock/levels/"


def move(api, sku, quantity, source="sellable", target="damaged", reason="damage", **extra):
    body = {"sku_code": sku.sku_code, "quantity": quantity, "from": source, "to": target, "reason": reason, **extra}
    return api.post(
        MOVES, body, format="json", **({"HTTP_IDEMPOTENCY_KEY": extra.pop("key")} if "key" in extra else {})
    )


def test_a_state_move_answers_201_with_the_movement_and_the_level(api, stocked):
    response = move(api, stocked, 3, reference="DMG-7")
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert response.json()["message"] == "Stock state moved"
    movement, level = data["movement"], data["level"]
    assert (movement["delta"], movement["state_from"], movement["state_to"], movement["quantity"]) == (
        0,
        "sellable",
        "damaged",
        3,
    )
    assert movement["reason"] == "damage" and movement["reference"] == "DMG-7" and movement["balance_after"] == 10
    assert (level["on_hand"], level["damaged"], level["sellable"], level["available"]) == (10, 3, 7, 7)
    assert Event.objects.filter(type="stock.level.changed", data__damaged=3).exists()


def test_moving_more_than_the_source_holds_is_409(api, stocked):
    move(api, stocked, 2, target="quality_control", reason="inspection")
    response = move(api, stocked, 3, source="quality_control", target="sellable", reason="inspection")
    assert response.status_code == 409 and response.json()["code"] == "insufficient_stock"
    assert response.json()["errors"] == {"state": "quality_control", "in_state": 2, "requested": 3}
    assert StockLevel.objects.get(sku=stocked).quality_control == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"from": "broken"}, "from"),
        ({"to": "sellable"}, "to"),
        ({"reason": "sale"}, "reason"),
        ({"quantity": 0}, "quantity"),
        ({"quantity": "3"}, "quantity"),
        ({"sku_code": "NOPE"}, "sku_code"),
        ({"warehouse": "NOPE"}, "warehouse"),
    ],
)
def test_bad_state_moves_are_400_naming_the_field(api, stocked, changes, field):
    body = {
        "sku_code": stocked.sku_code,
        "quantity": 1,
        "from": "sellable",
        "to": "damaged",
        "reason": "damage",
    } | changes
    response = api.post(MOVES, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not StockMovement.objects.filter(delta=0).exists()


def test_state_moves_need_their_permission(client_with_perms, stocked):
    clerk = client_with_perms("stock.adjust_stock")
    body = {"sku_code": stocked.sku_code, "quantity": 1, "from": "sellable", "to": "damaged", "reason": "damage"}
    assert clerk.post(MOVES, body, format="json").status_code == 403
    mover = client_with_perms("stock.move_stock_state", username="mover")
    assert mover.post(MOVES, body, format="json").status_code == 201


def test_a_retried_state_move_applies_once(api, stocked):
    body = {"sku_code": stocked.sku_code, "quantity": 2, "from": "sellable", "to": "damaged", "reason": "damage"}
    first = api.post(MOVES, body, format="json", HTTP_IDEMPOTENCY_KEY="move-1")
    again = api.post(MOVES, body, format="json", HTTP_IDEMPOTENCY_KEY="move-1")
    assert first.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()
    assert StockLevel.objects.get(sku=stocked).damaged == 2
    other = api.post(MOVES, body | {"quantity": 1}, format="json", HTTP_IDEMPOTENCY_KEY="move-1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


def test_a_write_off_through_the_adjustment_endpoint(api, stocked):
    move(api, stocked, 3)
    body = {"sku_code": stocked.sku_code, "delta": -2, "reason": "damage", "from_state": "damaged"}
    response = api.post("/api/v1/stock/adjustments/", body, format="json")
    assert response.status_code == 201, response.json()
    movement, level = response.json()["data"]["movement"], response.json()["data"]["level"]
    assert (movement["delta"], movement["state_from"], movement["quantity"]) == (-2, "damaged", 2)
    assert (level["on_hand"], level["damaged"], level["available"]) == (8, 1, 7)
    refused = api.post("/api/v1/stock/adjustments/", body | {"delta": -5}, format="json")
    assert refused.status_code == 409 and refused.json()["errors"] == {"damaged": 1, "requested": 5}
    bad = api.post("/api/v1/stock/adjustments/", body | {"from_state": "sellable"}, format="json")
    assert bad.status_code == 400 and "from_state" in bad.json()["errors"]


def test_level_settings_are_writable_and_checked(api, stocked):
    level = StockLevel.objects.get(sku=stocked)
    response = api.patch(
        f"{LEVELS}{level.pk}/", {"safety_stock": 4, "reorder_point": 3, "reorder_quantity": 12}, format="json"
    )
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert (data["safety_stock"], data["available"], data["reorder_point"], data["reorder_quantity"]) == (4, 6, 3, 12)
    cleared = api.patch(f"{LEVELS}{level.pk}/", {"reorder_point": None}, format="json").json()["data"]
    assert cleared["reorder_point"] is None and cleared["reorder_quantity"] == 12 and cleared["safety_stock"] == 4
    for body, field in (
        ({"safety_stock": -1}, "safety_stock"),
        ({"reorder_quantity": 0}, "reorder_quantity"),
        ({"safety_stock": 2**31}, "safety_stock"),
        ({"reorder_point": "x"}, "reorder_point"),
    ):
        refused = api.patch(f"{LEVELS}{level.pk}/", body, format="json")
        assert refused.status_code == 400 and field in refused.json()["errors"], refused.json()
    assert StockLevel.objects.get(pk=level.pk).safety_stock == 4
    # The safety stock is a setting: an event says what is available now.
    assert Event.objects.filter(type="stock.level.changed", data__safety_stock=4, data__available=6).exists()


def test_one_available_in_levels_sku_sums_filters_and_ordering(api, main, other):
    held = SKUFactory(sku_code="A-HELD")
    stock_receive(sku=held, quantity=10)
    stock_receive(sku=held, warehouse=other, quantity=3)
    stock_state_move(sku=held, warehouse=main, quantity=2, from_state="sellable", to_state="damaged", reason="damage")
    stock_state_move(
        sku=held, warehouse=main, quantity=1, from_state="sellable", to_state="quality_control", reason="inspection"
    )
    StockLevel.objects.filter(sku=held, warehouse=main).update(safety_stock=9, low_stock_threshold=1)  # 0, not -2
    StockLevel.objects.filter(sku=held, warehouse=other).update(safety_stock=1)  # 2
    plenty = SKUFactory(sku_code="B-PLENTY")
    stock_receive(sku=plenty, quantity=5)

    levels = {(lv["sku_code"], lv["warehouse"]): lv for lv in api.get(LEVELS).json()["data"]}
    assert levels[("A-HELD", "MAIN")]["available"] == 0 and levels[("A-HELD", "MAIN")]["is_low"] is True
    assert levels[("A-HELD", "EAST")]["available"] == 2
    in_stock = api.get(LEVELS, {"in_stock": "false"}).json()["data"]
    assert [(lv["sku_code"], lv["warehouse"]) for lv in in_stock] == [("A-HELD", "MAIN")]
    low = api.get(LEVELS, {"low_stock": "true"}).json()["data"]
    assert [(lv["sku_code"], lv["warehouse"]) for lv in low] == [("A-HELD", "MAIN")]
    ordered = api.get(LEVELS, {"ordering": "available"}).json()["data"]
    assert [lv["available"] for lv in ordered] == [0, 2, 5]

    def sku_row(params):
        return {row["sku_code"]: row for row in api.get("/api/v1/skus/", params).json()["data"]}

    for params in ({}, {"include_deleted": "false"}, {"ordering": "available"}):  # plain page, FilterSet, ordering
        rows = sku_row(params)
        assert (rows["A-HELD"]["on_hand"], rows["A-HELD"]["reserved"], rows["A-HELD"]["available"]) == (13, 0, 2)
    assert list(sku_row({"ordering": "available"})) == ["A-HELD", "B-PLENTY"]
    assert list(sku_row({"in_stock": "true"})) == ["A-HELD", "B-PLENTY"]
    StockLevel.objects.filter(sku=held, warehouse=other).update(safety_stock=3)
    assert list(sku_row({"in_stock": "false"})) == ["A-HELD"]
    assert sku_row({})["A-HELD"]["available"] == 0


def test_reservations_do_not_take_safety_stock_on_either_path(api, stocked):
    StockLevel.objects.filter(sku=stocked).update(safety_stock=4, damaged=1)
    plain = {"reference": "O", "lines": [{"sku_code": stocked.sku_code, "quantity": 6}]}
    refused = api.post("/api/v1/stock/reservations/", plain, format="json")
    assert refused.status_code == 409 and refused.json()["errors"]["lines"]["0"]["available"] == 5
    general = plain | {"ttl_seconds": 60, "lines": [{"sku_id": stocked.pk, "quantity": 6}]}
    assert api.post("/api/v1/stock/reservations/", general, format="json").status_code == 409
    assert (
        api.post(
            "/api/v1/stock/reservations/",
            plain | {"lines": [{"sku_code": stocked.sku_code, "quantity": 5}]},
            format="json",
        ).status_code
        == 201
    )
    assert StockLevel.objects.get(sku=stocked).reserved == 5


def test_allow_split_answers_one_line_per_warehouse(api, sku, main, other):
    stock_receive(sku=sku, quantity=4)
    stock_receive(sku=sku, warehouse=other, quantity=5)
    body = {"reference": "SPLIT", "lines": [{"sku_code": sku.sku_code, "quantity": 7}]}
    assert api.post("/api/v1/stock/reservations/", body, format="json").status_code == 409
    response = api.post("/api/v1/stock/reservations/", body | {"allow_split": True}, format="json")
    assert response.status_code == 201, response.json()
    assert [(line["warehouse"], line["quantity"]) for line in response.json()["data"]["lines"]] == [
        ("MAIN", 4),
        ("EAST", 3),
    ]
    bad = api.post("/api/v1/stock/reservations/", body | {"allow_split": "maybe"}, format="json")
    assert bad.status_code == 400 and "allow_split" in bad.json()["errors"]


def test_warehouse_priority_is_writable_and_places_lines(api, sku, main, other):
    stock_receive(sku=sku, quantity=5)
    stock_receive(sku=sku, warehouse=other, quantity=5)
    response = api.patch(f"/api/v1/warehouses/{other.pk}/", {"priority": 1}, format="json")
    assert response.status_code == 200 and response.json()["data"]["priority"] == 1
    assert api.patch(f"/api/v1/warehouses/{other.pk}/", {"priority": -1}, format="json").status_code == 400
    body = {"reference": "P", "lines": [{"sku_code": sku.sku_code, "quantity": 2}]}
    placed = api.post("/api/v1/stock/reservations/", body, format="json").json()["data"]["lines"]
    assert placed[0]["warehouse"] == "EAST"  # the one-statement path took the first by priority
    created = api.post("/api/v1/warehouses/", {"code": "west", "name": "West", "priority": 7}, format="json")
    assert created.status_code == 201 and created.json()["data"]["priority"] == 7
