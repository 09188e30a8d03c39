"""Fixtures of the admin tests: a logged-in staff client and a small catalog with stock; a page's text."""

import html
import re
from decimal import Decimal

import pytest

from catalog import services as catalog_services
from stock.models import Warehouse
from stock.services import stock_receive
from tests.catalog.factories import CategoryFactory, ProductFactory, SKUFactory
from tests.factories import UserFactory


@pytest.fixture
def staff(db):
    return UserFactory(username="admin", is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def main_warehouse(db) -> Warehouse:
    """The default warehouse the migrations create (a transactional test flushes it: bring it back)."""
    warehouse, _ = Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main warehouse", "is_default": True})
    return warehouse


@pytest.fixture
def catalog(db, main_warehouse):
    """Electronics > Phones with one product of two SKUs; one SKU has stock, one is low."""
    electronics = CategoryFactory(name="Electronics")
    phones = CategoryFactory(name="Phones", parent=electronics)
    product = ProductFactory(name="Phone X", category=phones, description="A phone")
    red = SKUFactory(sku_code="PHONE-X-RED", product=product, price=Decimal("499.00"), attributes={"color": "red"})
    blue = SKUFactory(sku_code="PHONE-X-BLUE", product=product, price=Decimal("499.00"))
    stock_receive(sku=red, quantity=12, reference="PO-1")
    stock_receive(sku=blue, quantity=1, reference="PO-1")
    catalog_services  # noqa: B018 - imported for the factories' services
    return {"electronics": electronics, "phones": phones, "product": product, "red": red, "blue": blue}


def product_form(product, changes=None, *, new_rows: int = 0) -> dict:
    """The product change form as the browser posts it: the product's fields and the variant
    grid (`catalog.admin.variants.grid_post`), with `changes` over them."""
    import json

    from catalog.admin.variants import grid_post

    return {
        "name": product.name,
        "category": product.category_id,
        "description": product.description,
        "attributes": json.dumps(product.attributes),
        "initial-attributes": json.dumps(product.attributes),
        "expected_version": product.version,
        **grid_post(product.pk, changes, new_rows=new_rows),
    }


def text_of(response) -> str:
    """A page as its reader sees the words: tags dropped, entities decoded, white space collapsed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))
