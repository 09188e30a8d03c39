"""/api/v1/stock/reservations/: create, commit, release, list and filters."""

import pytest

from stock.models import Reservation, StockLevel

pytestmark = pytest.mark.django_db
URL = "/api/v1/stock/reservations/"


def reserve(api, sku, quantity=2, **extra):
    return api.post(
        URL, {"reference": "ORDER-1001", "lines": [{"sku_code": sku.sku_code, "quantity": quantity}], **extra}
    )


def test_create(api, stocked, main):
    response = reserve(api, stocked, ttl_seconds=900)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["message"] == "Reservation created"
    data = body["data"]
    assert data["status"] == "active" and data["reference"] == "ORDER-1001" and data["expires_at"]
    assert data["lines"] == [
        {
            "id": data["lines"][0]["id"],
            "sku_id": stocked.pk,
            "sku_code": stocked.sku_code,
            "warehouse": "MAIN",
            "quantity": 2,
            "allocated": 2,
            "backordered": 0,
        }
    ]
    assert data["backordered"] is False
    assert StockLevel.objects.get().reserved == 2


def test_insufficient_names_lines(api, stocked):
    response = api.post(
        URL,
        {
            "reference": "O",
            "lines": [{"sku_code": stocked.sku_code, "quantity": 1}, {"sku_code": stocked.sku_code, "quantity": 20}],
        },
    )
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert response.json()["errors"] == {
        "lines": {"1": {"sku_code": stocked.sku_code, "available": 9, "requested": 20}}
    }
    assert StockLevel.objects.get().reserved == 0 and not Reservation.objects.exists()


@pytest.mark.parametrize(
    "payload, where",
    [
        ({"reference": "O", "lines": []}, "lines"),
        ({"reference": "O", "lines": [{"sku_code": "NOPE", "quantity": 1}]}, "lines"),
        ({"reference": "O", "lines": [{"sku_code": "TSHIRT-RED-M", "quantity": 0}]}, "lines"),
        ({"reference": "O", "lines": [{"sku_code": "TSHIRT-RED-M", "quantity": 1, "warehouse": "NOPE"}]}, "lines"),
        ({"reference": "O", "ttl_seconds": 0, "lines": [{"sku_code": "TSHIRT-RED-M", "quantity": 1}]}, "ttl_seconds"),
        (
            {"reference": "O", "ttl_seconds": 604801, "lines": [{"sku_code": "TSHIRT-RED-M", "quantity": 1}]},
            "ttl_seconds",
        ),
        ({"lines": [{"sku_code": "TSHIRT-RED-M", "quantity": 1}]}, "reference"),
    ],
)
def test_bad_input(api, stocked, payload, where):
    response = api.post(URL, payload)
    assert response.status_code == 400 and response.json()["code"] == "validation_error"
    assert where in response.json()["errors"]
    assert not Reservation.objects.exists()


def test_bad_line_named_by_index(api, stocked):
    response = api.post(
        URL,
        {
            "reference": "O",
            "lines": [{"sku_code": stocked.sku_code, "quantity": 1}, {"sku_code": "NOPE", "quantity": 1}],
        },
    )
    assert response.status_code == 400 and "sku_code" in response.json()["errors"]["lines"]["1"]


def test_deleted_sku(api, stocked):
    stocked.is_deleted = True
    stocked.save()
    assert reserve(api, stocked).status_code == 400


def test_commit_and_release(api, stocked):
    first = reserve(api, stocked, 3).json()["data"]["id"]
    response = api.post(f"{URL}{first}/commit/")
    assert response.status_code == 200 and response.json()["data"]["status"] == "committed"
    level = StockLevel.objects.get()
    assert (level.on_hand, level.reserved) == (7, 0)
    second = reserve(api, stocked, 3).json()["data"]["id"]
    response = api.post(f"{URL}{second}/release/")
    assert response.status_code == 200 and response.json()["data"]["status"] == "released"
    response = api.post(f"{URL}{second}/commit/")
    assert response.status_code == 409 and response.json()["code"] == "reservation_not_active"
    response = api.post(f"{URL}{second}/release/")
    assert response.status_code == 409 and response.json()["code"] == "reservation_not_active"
    assert api.post(f"{URL}999999/commit/").status_code == 404


def test_commit_after_expiry(api, stocked, later):
    pk = reserve(api, stocked, 3, ttl_seconds=1).json()["data"]["id"]
    later(2)
    assert api.get(f"{URL}{pk}/").json()["data"]["status"] == "expired"
    level = api.get("/api/v1/stock/levels/").json()["data"][0]
    assert (level["reserved"], level["available"]) == (0, 10)
    response = api.post(f"{URL}{pk}/commit/")
    assert response.status_code == 409 and response.json()["code"] == "reservation_expired"
    assert Reservation.objects.get().status == "expired" and StockLevel.objects.get().reserved == 0


def test_list_filters(api, stocked, sku, later):
    reserve(api, stocked, 1)
    api.post(URL, {"reference": "OTHER", "lines": [{"sku_code": stocked.sku_code, "quantity": 1}], "ttl_seconds": 5})
    assert [r["reference"] for r in api.get(URL, {"reference": "OTHER"}).json()["data"]] == ["OTHER"]
    assert len(api.get(URL, {"sku_code": stocked.sku_code.lower()}).json()["data"]) == 2
    assert api.get(URL, {"sku_code": "NOPE"}).json()["data"] == []
    later(10)
    assert [r["reference"] for r in api.get(URL, {"status": "expired"}).json()["data"]] == ["OTHER"]
    assert [r["reference"] for r in api.get(URL, {"status": "active"}).json()["data"]] == ["ORDER-1001"]
    assert api.get(URL, {"status": "bogus"}).status_code == 400


def test_list_query_count(api, stocked, django_assert_max_num_queries):
    for _ in range(5):
        reserve(api, stocked, 1)
    with django_assert_max_num_queries(8):
        response = api.get(URL, {"size": 100})
    assert len(response.json()["data"]) == 5


def test_permissions(client_with_perms, anon, stocked):
    assert anon.get(URL).status_code == 401
    assert reserve(client_with_perms("stock.view_reservation"), stocked).status_code == 403
    adder = client_with_perms("stock.add_reservation", "stock.view_reservation")
    pk = reserve(adder, stocked).json()["data"]["id"]
    assert adder.post(f"{URL}{pk}/commit/").status_code == 403
    assert adder.post(f"{URL}{pk}/release/").status_code == 403
    assert client_with_perms("stock.commit_reservation").post(f"{URL}{pk}/commit/").status_code == 200
    pk = reserve(adder, stocked).json()["data"]["id"]
    assert client_with_perms("stock.release_reservation").post(f"{URL}{pk}/release/").status_code == 200


def test_create_query_count(api, stocked, django_assert_max_num_queries):
    reserve(api, stocked, 1)
    # token, SKU, default warehouse, then the transaction: the plan's read of the levels (where a
    # line without a warehouse goes), UPDATE, 2 INSERTs (+ savepoint handling).
    with django_assert_max_num_queries(11):
        assert reserve(api, stocked, 1).status_code == 201


@pytest.mark.parametrize("lookalike", ["MİD-0000006", "mıd-0000006", "\u212aEY-0000006", "MID-0000006\u0307"])
def test_a_code_that_only_folds_into_a_skus_code_names_no_sku(api, main, lookalike):
    """Codes are equal as the create rule and the unique index on lower(sku_code) see them: a
    non-ASCII lookalike that lower() or upper() folds into another code reserves nothing."""
    from tests.catalog.factories import SKUFactory

    target = SKUFactory(sku_code="MID-0000006" if "\u212a" not in lookalike else "KEY-0000006")
    StockLevel.objects.create(sku=target, warehouse=main, on_hand=10)
    response = api.post(URL, {"reference": "LOOKALIKE", "lines": [{"sku_code": lookalike, "quantity": 1}]})
    assert 400 <= response.status_code < 500, response.json()
    assert StockLevel.objects.get(sku=target).reserved == 0 and not Reservation.objects.exists()
    assert (
        api.post(
            URL, {"reference": "SAME", "lines": [{"sku_code": target.sku_code.lower(), "quantity": 1}]}
        ).status_code
        == 201
    )  # any ASCII case still names it
