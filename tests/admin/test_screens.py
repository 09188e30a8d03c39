"""Every admin screen opens for a superuser, with the columns staff rely on."""

import pytest
from django.urls import reverse

from stock.models import StockLevel

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "catalog_category",
    "catalog_product",
    "catalog_sku",
    "stock_warehouse",
    "stock_stocklevel",
    "stock_stockmovement",
    "stock_reservation",
]


def test_index_has_header_and_low_stock_panel(staff_client, catalog):
    StockLevel.objects.filter(sku=catalog["blue"]).update(low_stock_threshold=5)
    response = staff_client.get(reverse("admin:index"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Inventory" in body
    assert 'id="low-stock-panel"' in body
    assert "PHONE-X-BLUE" in body
    assert "PHONE-X-RED" not in body


@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelists_open(staff_client, catalog, name):
    response = staff_client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "name,key",
    [
        ("catalog_category", "phones"),
        ("catalog_product", "product"),
        ("catalog_sku", "red"),
    ],
)
def test_change_forms_carry_the_version(staff_client, catalog, name, key):
    obj = catalog[key]
    response = staff_client.get(reverse(f"admin:{name}_change", args=[obj.pk]))
    assert response.status_code == 200
    assert f'name="expected_version" value="{obj.version}"' in response.content.decode()


def test_add_forms_open(staff_client, catalog):
    for name in ("catalog_category", "catalog_product", "catalog_sku", "stock_warehouse"):
        assert staff_client.get(reverse(f"admin:{name}_add")).status_code == 200


def test_history_and_import_pages_open(staff_client, catalog):
    assert staff_client.get(reverse("admin:catalog_product_history", args=[catalog["product"].pk])).status_code == 200
    for name in ("catalog_category", "catalog_product", "catalog_sku"):
        assert staff_client.get(reverse(f"admin:{name}_import")).status_code == 200
        assert staff_client.get(reverse(f"admin:{name}_export")).status_code == 200


def test_stock_level_and_adjust_pages_open(staff_client, catalog):
    level = StockLevel.objects.get(sku=catalog["red"])
    assert staff_client.get(reverse("admin:stock_stocklevel_change", args=[level.pk])).status_code == 200
    assert staff_client.get(reverse("admin:stock_stocklevel_adjust_level", args=[level.pk])).status_code == 200
    assert staff_client.get(reverse("admin:stock_stocklevel_adjust")).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/admin/catalog/category/?parent=%C2%B2",
        "/admin/catalog/category/?parent=99999999999999999999",
        "/admin/catalog/product/?category_tree=%C2%B2",
        "/admin/catalog/product/?category_tree=99999999999999999999",
        "/admin/catalog/sku/?category_tree=99999999999999999999",
    ],
)
def test_id_filters_ignore_values_that_are_not_ids(staff_client, catalog, url):
    """A superscript digit passes str.isdigit() and 20 digits overflow a bigint: neither is a 500."""
    assert staff_client.get(url).status_code == 200
