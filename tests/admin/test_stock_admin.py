"""Stock admin: adjustments write movements through the service; the ledger is read-only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.models import SKU
from stock.models import Reservation, ReservationStatus, StockLevel, StockMovement, Warehouse
from stock.services import ReservationRequestLine, reservation_create, stock_adjust_bulk
from tests.conftest import grant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def adjust(client, level=None, **data):
    url = (
        reverse("admin:stock_stocklevel_adjust_level", args=[level.pk])
        if level
        else reverse("admin:stock_stocklevel_adjust")
    )
    return client.post(url, data)


class TestAdjustStock:
    def test_delta_writes_a_movement(self, staff_client, catalog, main_warehouse):
        level = StockLevel.objects.get(sku=catalog["red"])
        response = adjust(
            staff_client,
            level,
            sku_code="PHONE-X-RED",
            warehouse=main_warehouse.pk,
            mode="delta",
            amount=-2,
            reason="damage",
            reference="DMG-7",
            note="dropped",
        )
        assert response.status_code == 302
        assert "stockmovement" in response["Location"]
        level.refresh_from_db()
        assert level.on_hand == 10
        movement = StockMovement.objects.order_by("-id").first()
        assert (movement.delta, movement.reason, movement.reference, movement.note) == (
            -2,
            "damage",
            "DMG-7",
            "dropped",
        )
        assert movement.created_by.username == "admin"

    def test_count_sets_on_hand_and_checks_what_was_seen(self, staff_client, catalog, main_warehouse):
        level = StockLevel.objects.get(sku=catalog["red"])
        data = dict(
            sku_code="PHONE-X-RED",
            warehouse=main_warehouse.pk,
            mode="count",
            amount=20,
            reason="count",
            reference="CC-1",
            expected_on_hand=12,
        )
        assert adjust(staff_client, level, **data).status_code == 302
        level.refresh_from_db()
        assert level.on_hand == 20
        # The same form submitted again: on-hand is no longer the 12 it was opened with.
        response = adjust(staff_client, level, **{**data, "amount": 25})
        assert response.status_code == 200
        assert "Not adjusted" in response.content.decode()
        level.refresh_from_db()
        assert level.on_hand == 20

    def test_refused_adjustment_shows_error_and_writes_nothing(self, staff_client, catalog, main_warehouse):
        before = StockMovement.objects.count()
        response = adjust(
            staff_client, sku_code="PHONE-X-BLUE", warehouse=main_warehouse.pk, mode="delta", amount=-5, reason="loss"
        )
        assert response.status_code == 200
        assert "Not adjusted" in response.content.decode()
        assert StockMovement.objects.count() == before

    def test_unknown_sku_is_a_form_error(self, staff_client, catalog, main_warehouse):
        response = adjust(
            staff_client, sku_code="NOPE", warehouse=main_warehouse.pk, mode="delta", amount=1, reason="receipt"
        )
        assert "No active SKU" in response.content.decode()

    def test_adjust_needs_the_permission(self, client, catalog):
        user = grant(UserFactory(), "stock.view_stocklevel")
        client.force_login(user)
        assert client.get(reverse("admin:stock_stocklevel_adjust")).status_code == 403
        grant(user, "stock.adjust_stock")
        assert client.get(reverse("admin:stock_stocklevel_adjust")).status_code == 200


class TestStockLevels:
    def test_quantities_are_read_only_threshold_is_versioned(self, staff_client, catalog):
        level = StockLevel.objects.get(sku=catalog["red"])
        url = reverse("admin:stock_stocklevel_change", args=[level.pk])
        page = staff_client.get(url).content.decode()
        assert 'name="on_hand"' not in page and 'name="low_stock_threshold"' in page
        assert staff_client.post(url, {"low_stock_threshold": 15, "expected_version": level.version}).status_code == 302
        level.refresh_from_db()
        assert level.low_stock_threshold == 15
        stale = staff_client.post(url, {"low_stock_threshold": 3, "expected_version": level.version - 1})
        assert "changed by someone else since you opened it" in stale.content.decode()
        level.refresh_from_db()
        assert level.low_stock_threshold == 15

    def test_low_filter(self, staff_client, catalog):
        StockLevel.objects.filter(sku=catalog["blue"]).update(low_stock_threshold=2)
        rows = staff_client.get(reverse("admin:stock_stocklevel_changelist"), {"low": "yes"}).context["cl"].result_list
        assert [level.sku.sku_code for level in rows] == ["PHONE-X-BLUE"]


class TestMovements:
    def test_ledger_is_read_only_even_for_superusers(self, staff_client, catalog):
        movement = StockMovement.objects.first()
        assert staff_client.get(reverse("admin:stock_stockmovement_add")).status_code == 403
        change_url = reverse("admin:stock_stockmovement_change", args=[movement.pk])
        page = staff_client.get(change_url)
        assert page.status_code == 200 and 'name="delta"' not in page.content.decode()
        assert staff_client.post(change_url, {"delta": 99}).status_code == 403
        assert (
            staff_client.post(
                reverse("admin:stock_stockmovement_delete", args=[movement.pk]), {"post": "yes"}
            ).status_code
            == 403
        )
        changelist = staff_client.get(reverse("admin:stock_stockmovement_changelist"))
        assert "delete_selected" not in changelist.content.decode()

    def test_filters(self, staff_client, catalog):
        url = reverse("admin:stock_stockmovement_changelist")
        assert staff_client.get(url, {"reason": "receipt"}).context["cl"].result_count == 2
        assert staff_client.get(url, {"reason": "damage"}).context["cl"].result_count == 0
        today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        dated = staff_client.get(url, {"created_at__gte": str(today), "created_at__lt": str(today + timedelta(days=1))})
        assert dated.context["cl"].result_count == 2


class TestReservations:
    def reserve(self, catalog, ttl=600):
        return reservation_create(
            reference="ORDER-1",
            ttl_seconds=ttl,
            lines=[ReservationRequestLine(sku=catalog["red"], quantity=2)],
        )

    def test_release_action(self, staff_client, catalog):
        reservation = self.reserve(catalog)
        url = reverse("admin:stock_reservation_changelist")
        staff_client.post(url, {"action": "release_selected", "_selected_action": [reservation.pk]})
        reservation.refresh_from_db()
        assert reservation.status == ReservationStatus.RELEASED
        assert StockLevel.objects.get(sku=catalog["red"]).reserved == 0

    def test_expired_shown_and_filtered_as_expired(self, staff_client, catalog):
        reservation = self.reserve(catalog)
        Reservation.objects.filter(pk=reservation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        url = reverse("admin:stock_reservation_changelist")
        page = staff_client.get(url, {"status": "expired"})
        assert [r.pk for r in page.context["cl"].result_list] == [reservation.pk]
        assert "Expired" in page.content.decode()
        assert staff_client.get(url, {"status": "active"}).context["cl"].result_count == 0


class TestWarehouses:
    def test_create_and_stale_update(self, staff_client, db):
        response = staff_client.post(
            reverse("admin:stock_warehouse_add"),
            {
                "code": "east",
                "name": "East",
                "is_active": "on",
            },
        )
        assert response.status_code == 302
        east = Warehouse.objects.get(code="EAST")
        url = reverse("admin:stock_warehouse_change", args=[east.pk])
        data = {"code": "EAST", "name": "East 2", "is_active": "on", "expected_version": east.version}
        assert staff_client.post(url, data).status_code == 302
        stale = staff_client.post(url, {**data, "name": "East 3"})
        assert "changed by someone else since you opened it" in stale.content.decode()
        assert Warehouse.objects.get(pk=east.pk).name == "East 2"


@pytest.mark.parametrize("name", ["stock_stocklevel", "stock_stockmovement"])
def test_stock_changelists_run_the_same_queries_for_10_and_100_rows(staff_client, catalog, name):
    product = catalog["product"]

    def page_queries(rows):
        with CaptureQueriesContext(connection) as queries:
            response = staff_client.get(reverse(f"admin:{name}_changelist"))
        assert len(response.context["cl"].result_list) == rows
        return len(queries)

    def add(n, start):
        skus = SKU.objects.bulk_create(
            SKU(sku_code=f"BULK-{start + i}", product=product, price=Decimal("1.00")) for i in range(n)
        )
        stock_adjust_bulk(lines=[{"sku": sku, "delta": 3, "reason": "receipt"} for sku in skus])

    add(8, 0)  # + the 2 SKUs of the catalog fixture
    few = page_queries(10)
    add(90, 100)
    assert page_queries(100) == few
