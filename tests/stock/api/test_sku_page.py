"""/api/v1/skus/?page=&size=: the plain page in one query answers what the general path answers."""
from datetime import datetime, timezone as dt_timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import SKU
from stock.services import ReservationRequestLine, reservation_create, stock_receive
from tests.stock.factories import SKUFactory

pytestmark = [pytest.mark.django_db]
URL = "/api/v1/skus/"


@pytest.fixture
def catalog(main, other):
    skus = [SKUFactory(sku_code=f"S-{n}", attributes={"n": n, "tags": ["é", n]}) for n in range(7)]
    for n, sku in enumerate(skus):
        stock_receive(sku=sku, quantity=10 + n)
    stock_receive(sku=skus[1], quantity=5, warehouse=other)
    reservation_create(reference="O", lines=[ReservationRequestLine(sku=skus[1], quantity=3)], ttl_seconds=60)
    reservation_create(reference="P", lines=[ReservationRequestLine(sku=skus[2], quantity=2)], ttl_seconds=60)
    SKU.all_objects.filter(pk=skus[2].pk).update(created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt_timezone.utc))
    skus[3].is_deleted = True
    skus[3].save()
    return skus


@pytest.mark.parametrize("params", [{}, {"size": "2"}, {"size": "2", "page": "2"}, {"size": "3", "page": "3"},
                                    {"size": "100", "page": "9"}])
def test_plain_page_is_the_general_page(api, catalog, later, params):
    later(61)  # reservation P is overdue: neither path counts it
    reservation_create(reference="Q", lines=[ReservationRequestLine(sku=catalog[4], quantity=1)], ttl_seconds=3600)
    fast = api.get(URL, params)
    general = api.get(URL, {**params, "include_deleted": "false"})  # a filter: the FilterSet path
    assert fast.status_code == general.status_code == 200
    for a, b in zip(fast.json()["data"], general.json()["data"]):
        assert a == b
    assert fast.json() == general.json()
    assert fast.content.count(b"S-") == general.content.count(b"S-")


def test_plain_page_is_the_token_and_one_query(api, catalog):
    with CaptureQueriesContext(connection) as captured:
        response = api.get(URL, {"size": "100"})
    assert response.status_code == 200 and response.json()["meta"]["total"] == 6
    assert len(captured.captured_queries) == 2


@pytest.mark.parametrize("params", [{"size": "0"}, {"size": "101"}, {"page": "x"}, {"page": "0"}])
def test_bad_paging_is_still_the_paginators_400(api, catalog, params):
    response = api.get(URL, params)
    assert response.status_code == 400 and response.json()["code"] == "validation_error"


def test_plain_page_still_needs_the_view_permission(client_with_perms, catalog):
    assert client_with_perms().get(URL).status_code == 403
    assert client_with_perms("catalog.view_sku").get(URL).status_code == 200


@pytest.mark.parametrize("params", [{}, {"include_deleted": "false"}, {"ordering": "-available"}])
def test_stock_figures_are_json_integers_on_every_path(api, catalog, params):
    # SUM of bigint is numeric in PostgreSQL; read back uncast it renders as 10.0, which the
    # schema (integer) and typed clients refuse. `==` cannot tell 10.0 from 10: compare types.
    rows = api.get(URL, params).json()["data"]
    assert rows
    for row in rows:
        for field in ("on_hand", "reserved", "available", "inventory_count"):
            assert type(row[field]) is int, (field, row[field])
