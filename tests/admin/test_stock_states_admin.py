"""The quantity states in the admin: every state on the level list and page, the settings saved
through the service, the state-move screen (form -> service -> message), warehouse priority."""

import pytest
from django.urls import reverse

from stock.models import StockLevel, StockMovement, Warehouse
from tests.admin.conftest import text_of
from tests.conftest import grant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
MOVE = "admin:stock_stocklevel_state_move"


@pytest.fixture
def level(catalog):
    level = StockLevel.objects.get(sku=catalog["red"])
    StockLevel.objects.filter(pk=level.pk).update(safety_stock=2)
    level.refresh_from_db()
    return level


def test_the_level_list_and_page_show_every_state(staff_client, level):
    StockLevel.objects.filter(pk=level.pk).update(damaged=1, quality_control=3)
    listing = staff_client.get(reverse("admin:stock_stocklevel_changelist"))
    from django.contrib.admin.templatetags.admin_list import result_headers

    headers = [str(h["text"]).lower() for h in result_headers(listing.context["cl"])][1:]  # after the tick box
    # The list leads with what a clerk reads; every state is on the level's page.
    assert headers[:6] == ["sku / product", "warehouse", "on hand", "available", "reserved", "incoming"]
    row = next(r for r in listing.context["cl"].result_list if r.pk == level.pk)
    assert row.effective_available == level.on_hand - 1 - 3 - 2
    page = staff_client.get(reverse("admin:stock_stocklevel_change", args=[level.pk]))
    content = page.content.decode()
    for label in ("Damaged", "Quality control", "Incoming", "Backordered", "Sellable"):
        assert f"{label}:" in text_of(page), label
    assert 'name="safety_stock"' in content and 'name="reorder_point"' in content and 'name="damaged"' not in content
    assert reverse("admin:stock_stocklevel_state_move_level", args=[level.pk]) in content


def test_settings_are_saved_through_the_service_and_checked(staff_client, level):
    url = reverse("admin:stock_stocklevel_change", args=[level.pk])
    data = {
        "low_stock_threshold": 1,
        "safety_stock": 5,
        "reorder_point": 4,
        "reorder_quantity": 20,
        "expected_version": level.version,
    }
    assert staff_client.post(url, data).status_code == 302
    level.refresh_from_db()
    assert (level.safety_stock, level.reorder_point, level.reorder_quantity) == (5, 4, 20)
    refused = staff_client.post(url, {**data, "reorder_quantity": 0, "expected_version": level.version})
    assert refused.status_code == 200
    level.refresh_from_db()
    assert level.reorder_quantity == 20


def test_a_state_move_from_the_level_page(staff_client, level):
    url = reverse("admin:stock_stocklevel_state_move_level", args=[level.pk])
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(
        url,
        {
            "sku_code": level.sku.sku_code,
            "warehouse": level.warehouse.pk,
            "quantity": 2,
            "from_state": "sellable",
            "to_state": "quality_control",
            "reason": "inspection",
            "reference": "QC-1",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert f"Moved 2 × {level.sku.sku_code}" in text_of(response) and "2 in quality control" in text_of(response)
    level.refresh_from_db()
    assert level.quality_control == 2
    movement = StockMovement.objects.get(delta=0)
    assert (movement.state_from, movement.state_to, movement.quantity, movement.reference) == (
        "sellable",
        "quality_control",
        2,
        "QC-1",
    )


def test_a_refused_state_move_shows_why_and_writes_nothing(staff_client, level):
    response = staff_client.post(
        reverse(MOVE),
        {
            "sku_code": level.sku.sku_code,
            "warehouse": level.warehouse.pk,
            "quantity": 1,
            "from_state": "damaged",
            "to_state": "sellable",
            "reason": "correction",
        },
    )
    assert response.status_code == 200
    assert "Not moved (PHONE-X-RED at Main warehouse): only 0 units are damaged (1 requested)." in text_of(response)
    same = staff_client.post(
        reverse(MOVE),
        {
            "sku_code": level.sku.sku_code,
            "warehouse": level.warehouse.pk,
            "quantity": 1,
            "from_state": "damaged",
            "to_state": "damaged",
            "reason": "correction",
        },
    )
    assert "Choose a state other than the one the units leave." in text_of(same)
    assert not StockMovement.objects.filter(delta=0).exists()


def test_the_state_move_screen_needs_its_permission(client, level):
    user = UserFactory(is_staff=True)
    grant(user, "stock.view_stocklevel", "stock.adjust_stock")
    client.force_login(user)
    assert client.get(reverse(MOVE)).status_code == 403
    grant(user, "stock.move_stock_state")
    assert client.get(reverse(MOVE)).status_code == 200


def test_warehouse_priority_in_the_admin(staff_client, main_warehouse):
    response = staff_client.post(
        reverse("admin:stock_warehouse_add"),
        {
            "code": "north",
            "name": "North",
            "is_active": "on",
            "priority": 3,
        },
    )
    assert response.status_code == 302 and Warehouse.objects.get(code="NORTH").priority == 3
    listing = text_of(staff_client.get(reverse("admin:stock_warehouse_changelist")))
    assert "priority" in listing.lower()
