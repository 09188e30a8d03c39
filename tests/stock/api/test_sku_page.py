"""/api/v1/skus/: every page and every single SKU goes through the one statement of
`stock.selectors_sku_page` and the one presentation of `stock.api.sku_page`."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import SKU
from stock.models import StockLevel
from stock.services import ReservationRequestLine, reservation_create, stock_receive
from tests.stock.factories import SKUFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/skus/"


@pytest.fixture
def catalog(main, other, later):
    """S-0..S-6, each 10 + n units in MAIN; S-1 5 more in EAST and 3 reserved; S-2's reservation
    overdue (counted by no read); S-3 deleted; S-4 1 unit reserved; S-5 2 damaged and 3 safety stock."""
    skus = [
        SKUFactory(sku_code=f"S-{n}", price=f"{n}.{n}0", attributes={"n": n, "tags": ["é", n], "f": 1.5})
        for n in range(7)
    ]
    for n, sku in enumerate(skus):
        stock_receive(sku=sku, quantity=10 + n)
    stock_receive(sku=skus[1], quantity=5, warehouse=other)
    StockLevel.objects.filter(sku=skus[5]).update(damaged=2, safety_stock=3)
    reservation_create(reference="O", lines=[ReservationRequestLine(sku=skus[1], quantity=3)], ttl_seconds=3600)
    reservation_create(reference="P", lines=[ReservationRequestLine(sku=skus[2], quantity=2)], ttl_seconds=60)
    reservation_create(reference="Q", lines=[ReservationRequestLine(sku=skus[4], quantity=1)], ttl_seconds=3600)
    for n, sku in enumerate(skus):
        SKU.all_objects.filter(pk=sku.pk).update(
            created_at=datetime(2026, 1, 2, 3, 4, n, 1000 * n, tzinfo=UTC),
            updated_at=datetime(2026, 2, 2, 3, 4, n, tzinfo=UTC),
        )
    SKU.all_objects.filter(pk=skus[3].pk).update(is_deleted=True, deleted_at=datetime(2026, 3, 1, tzinfo=UTC))
    later(61)  # P is overdue
    return skus


def codes(response) -> list[str]:
    return [row["sku_code"] for row in response.json()["data"]]


def test_a_row_as_the_contract_writes_it(api, catalog):
    body = api.get(URL, {"size": "2"}).json()
    assert body["status"] == "success" and body["message"] == "OK"
    assert body["meta"] == {"page": 1, "size": 2, "total": 6, "pages": 3}
    assert body["data"][1] == {
        "id": catalog[1].pk,
        "sku_code": "S-1",
        "product_id": catalog[1].product_id,
        "price": "1.10",
        "attributes": {"n": 1, "tags": ["é", 1], "f": 1.5},
        "backorder_policy": "deny",
        "inventory_count": 16,
        "on_hand": 16,
        "reserved": 3,
        "available": 13,
        "created_at": "2026-01-02T03:04:01.001000Z",
        "updated_at": "2026-02-02T03:04:01Z",
        "version": 1,
        "is_deleted": False,
        "deleted_at": None,
    }


def test_stock_figures_leave_out_overdue_reservations_and_held_back_units(api, catalog):
    rows = {row["sku_code"]: row for row in api.get(URL).json()["data"]}
    assert (rows["S-2"]["reserved"], rows["S-2"]["available"]) == (0, 12)  # P is overdue
    assert (rows["S-4"]["reserved"], rows["S-4"]["available"]) == (1, 13)
    assert (rows["S-5"]["on_hand"], rows["S-5"]["available"]) == (15, 10)  # 2 damaged, 3 safety stock


@pytest.mark.parametrize(
    "params, expected, total",
    [
        ({}, ["S-0", "S-1", "S-2", "S-4", "S-5", "S-6"], 6),
        ({"size": "2", "page": "2"}, ["S-2", "S-4"], 6),
        ({"size": "4", "page": "3"}, [], 6),
        ({"include_deleted": "true", "size": "2", "page": "2"}, ["S-2", "S-3"], 7),
        ({"ordering": "-available", "size": "3"}, ["S-6", "S-1", "S-4"], 6),
        ({"ordering": "-price", "size": "2", "page": "2"}, ["S-4", "S-2"], 6),
        ({"price_min": "2", "price_max": "4.4"}, ["S-2", "S-4"], 2),
        ({"sku_code": "s-5"}, ["S-5"], 1),
        ({"in_stock": "false"}, [], 0),
    ],
)
def test_filters_ordering_and_paging_choose_the_rows_of_the_one_statement(api, catalog, params, expected, total):
    response = api.get(URL, params)
    assert response.status_code == 200
    assert codes(response) == expected and response.json()["meta"]["total"] == total


def test_a_deleted_sku_shows_its_deletion(api, catalog):
    row = api.get(URL, {"include_deleted": "true", "sku_code": "S-3"}).json()["data"][0]
    assert (row["is_deleted"], row["deleted_at"], row["on_hand"]) == (True, "2026-03-01T00:00:00Z", 13)


def test_timestamps_in_another_time_zone_are_written_as_every_endpoint_writes_them(api, catalog, settings):
    settings.TIME_ZONE = "Europe/Paris"
    row = api.get(URL, {"include_deleted": "true", "sku_code": "S-3"}).json()["data"][0]
    assert (row["created_at"], row["updated_at"], row["deleted_at"]) == (
        "2026-01-02T04:04:03.003000+01:00",
        "2026-02-02T04:04:03+01:00",
        "2026-03-01T01:00:00+01:00",
    )
    warehouse = api.get("/api/v1/warehouses/").json()["data"][0]
    assert warehouse["created_at"].endswith("+01:00")


def test_the_detail_and_the_answer_to_a_write_are_the_list_row(api, catalog):
    row = api.get(URL, {"sku_code": "S-1"}).json()["data"][0]
    detail = api.get(f"{URL}{catalog[1].pk}/")
    assert detail.json()["data"] == row and detail["ETag"] == '"1"'
    updated = api.patch(f"{URL}{catalog[1].pk}/", {"price": "9.99"}).json()["data"]
    assert (updated["price"], updated["version"], updated["reserved"]) == ("9.99", 2, 3)
    assert updated["updated_at"].endswith("Z") and updated["created_at"] == row["created_at"]


def test_one_query_and_one_statement_text_for_every_page(api, catalog):
    texts = []
    for params in ({"size": "2"}, {"size": "2", "page": "3"}, {"size": "100", "page": "9"}):
        with CaptureQueriesContext(connection) as captured:
            assert api.get(URL, params).status_code == 200
        assert len(captured.captured_queries) == 2  # the token, then the page
        texts.append(captured.captured_queries[-1]["sql"])
    # LIMIT and OFFSET are parameters: PostgreSQL plans the page once, whatever its number.
    assert texts[0].split("LIMIT")[0] == texts[1].split("LIMIT")[0] == texts[2].split("LIMIT")[0]
    # The active SKUs are not counted: their number is read from the slots the triggers keep.
    assert "catalog_sku_active_count" in texts[0] and "count(*)" not in texts[0]
    with CaptureQueriesContext(connection) as captured:
        assert api.get(URL, {"ordering": "-available", "in_stock": "true"}).status_code == 200
    assert len(captured.captured_queries) == 2
    assert "count(*)" in captured.captured_queries[-1]["sql"]
    assert "catalog_sku_active_count" not in captured.captured_queries[-1]["sql"]


def test_the_pages_without_filters_follow_the_catalog(api, catalog):
    assert api.get(URL).json()["meta"]["total"] == 6
    SKUFactory(sku_code="S-7")
    SKU.all_objects.filter(pk=catalog[0].pk).update(is_deleted=True)
    body = api.get(URL).json()
    assert (
        body["meta"]["total"] == 6 and codes(api.get(URL, {"page": "1"}))[0] == "S-1" and "S-7" in codes(api.get(URL))
    )


@pytest.mark.parametrize(
    "params",
    [
        {"size": "0"},
        {"size": "101"},
        {"page": "x"},
        {"page": "0"},
        {"page": "-1"},
        {"ordering": "nope"},
        {"in_stock": "maybe"},
    ],
)
def test_bad_paging_and_filters_are_400(api, catalog, params):
    response = api.get(URL, params)
    assert response.status_code == 400 and response.json()["code"] == "validation_error"


def test_the_list_needs_the_view_permission(client_with_perms, catalog):
    assert client_with_perms().get(URL).status_code == 403
    assert client_with_perms("catalog.view_sku").get(URL).status_code == 200


@pytest.mark.parametrize("params", [{}, {"include_deleted": "false"}, {"ordering": "-available"}])
def test_stock_figures_are_json_integers(api, catalog, params):
    # SUM of bigint is numeric in PostgreSQL; read back uncast it renders as 10.0, which the
    # schema (integer) and typed clients refuse. `==` cannot tell 10.0 from 10: compare types.
    rows = api.get(URL, params).json()["data"]
    assert rows
    for row in rows:
        for field in ("on_hand", "reserved", "available", "inventory_count"):
            assert type(row[field]) is int, (field, row[field])
