"""The catalog's input rules (`catalog.rules`), and the services calling them on every write."""

from decimal import Decimal

import pytest

from catalog import rules, services
from catalog.exceptions import InvalidInput, RuleBroken
from catalog.models import SKU, Category, Product
from tests.catalog.factories import CategoryFactory, ProductFactory


@pytest.mark.parametrize(
    "value,price",
    [
        ("0", Decimal("0.00")),
        ("19.9", Decimal("19.90")),
        (" 19.99 ", Decimal("19.99")),
        (5, Decimal("5.00")),
        (Decimal("99999999.99"), Decimal("99999999.99")),
        ("1E+2", Decimal("100.00")),
    ],
)
def test_prices_the_rule_accepts(value, price):
    assert rules.price_checked(value) == price


@pytest.mark.parametrize(
    "value,problem",
    [
        ("1.005", "has more than 2 decimal places"),
        ("1.500", "has more than 2 decimal places"),
        (Decimal("0.001"), "has more than 2 decimal places"),
        ("-0.01", "is not between"),
        ("100000000", "is not between"),
        ("9" * 5001, "is not between"),
        ("1" + "0" * 5000, "is not between"),
        ("abc", "is not a price"),
        ("NaN", "is not a price"),
        ("Infinity", "is not a price"),
        ("", "is not a price"),
        (None, "is not a price"),
        (True, "is not a price"),
    ],
)
def test_prices_the_rule_refuses_never_rounding(value, problem):
    with pytest.raises(RuleBroken) as refused:
        rules.price_checked(value)
    assert problem in refused.value.message
    assert refused.value.errors["price"][0].lower().startswith(problem[:10].lower())
    assert len(refused.value.message) < 200  # a 5,001-digit value is shown cut short


@pytest.mark.parametrize("code", ["", " A", "A B", "A/B", "CAFÉ", "A\n", "X" * 51, 12])
def test_codes_the_rule_refuses(code):
    with pytest.raises(RuleBroken, match="must be 1-50 characters"):
        rules.sku_code_checked(code)


def test_names_and_descriptions():
    assert rules.category_name_checked("Phones & Tablets") == "Phones & Tablets"
    for bad, says in [("A/B", "'/'"), ("A\x7f", "control"), (" ", "empty"), ("C" * 101, "at most 100")]:
        with pytest.raises(RuleBroken, match=says):
            rules.category_name_checked(bad)
    with pytest.raises(RuleBroken, match="at most 150"):
        rules.product_name_checked("P" * 151)
    assert rules.description_checked("two\nlines\tok", 500) == "two\nlines\tok"
    with pytest.raises(RuleBroken, match="control"):
        rules.description_checked("bell\x07", 500)


@pytest.mark.django_db
class TestServicesCheckTheirInput:
    """Each service refuses what the rules refuse, every field at once, and writes nothing."""

    def test_sku_create_and_update(self):
        product = ProductFactory()
        with pytest.raises(InvalidInput) as refused:
            services.sku_create(sku_code="BAD CODE", product_id=product.pk, price="1.005")
        assert set(refused.value.errors) == {"sku_code", "price"}
        assert not SKU.all_objects.exists()
        sku = services.sku_create(sku_code="OK-1", product_id=product.pk, price="1.50")
        assert sku.price == Decimal("1.50")
        with pytest.raises(InvalidInput, match="price '-1' is not between"):
            services.sku_update(sku_id=sku.pk, price="-1")
        sku.refresh_from_db()
        assert (sku.price, sku.version) == (Decimal("1.50"), 1)

    def test_product_and_category(self):
        category = CategoryFactory()
        with pytest.raises(InvalidInput, match="control characters"):
            services.product_create(name="Bad\x07", category_id=category.pk)
        with pytest.raises(InvalidInput, match="'/'"):
            services.category_create(name="A/B")
        with pytest.raises(InvalidInput, match="attributes"):
            services.category_update(category_id=category.pk, attributes=[1])
        assert not Product.all_objects.exists() and Category.all_objects.count() == 1
