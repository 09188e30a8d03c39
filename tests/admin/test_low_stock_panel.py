"""The admin index's low-stock panel shows the low-stock report's levels: the same selector."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from catalog.services import sku_soft_delete
from stock.models import StockLevel
from stock.services import stock_receive, warehouse_soft_delete
from tests.stock.factories import SKUFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def test_panel_and_report_list_the_same_levels(staff_client, main_warehouse):
    low = SKUFactory(sku_code="LOW-1")
    stock_receive(sku=low, quantity=2)
    gone_sku = SKUFactory(sku_code="GONE-SKU")
    stock_receive(sku=gone_sku, quantity=1)
    sku_soft_delete(sku_id=gone_sku.pk)
    closed = WarehouseFactory(code="CLOSED")
    StockLevel.objects.create(sku=low, warehouse=closed)  # empty, so the warehouse may be deleted
    warehouse_soft_delete(warehouse=closed)
    StockLevel.objects.update(low_stock_threshold=5)

    panel = staff_client.get(reverse("admin:index"))
    out = StringIO()
    call_command("low_stock_report", "--format", "csv", stdout=out, stderr=StringIO())
    reported = [row.split(",")[:2] for row in out.getvalue().splitlines()[1:]]

    shown = [[level.warehouse.code, level.sku.sku_code] for level in panel.context["levels"]]
    assert shown == reported == [["MAIN", "LOW-1"]]
    assert 'class="stock-status low"' in panel.content.decode()
