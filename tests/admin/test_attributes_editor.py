"""The attributes editor: name/value rows (values read as JSON when they are JSON), the raw JSON
behind a switch, and the services' rules (`attributes_checked`) deciding what is stored."""

import json

import pytest
from django.urls import reverse

from inventory_site.attributes_widget import cell_text, cell_value, pairs_from_rows

pytestmark = pytest.mark.django_db


def sku_rows(sku, keys, values, **extra) -> dict:
    return {
        "sku_code": sku.sku_code,
        "product": sku.product_id,
        "price": str(sku.price),
        "expected_version": sku.version,
        "attributes__key": keys,
        "attributes__value": values,
        "attributes": "{}",
        **extra,
    }


@pytest.mark.parametrize(
    "stored", ["red", "42", "true", " padded ", "", 42, 1.5, True, None, {"a": [1, 2]}, ["x"], 'say "hi"']
)
def test_every_value_goes_back_as_it_came(stored):
    assert cell_value(cell_text(stored)) == stored
    assert type(cell_value(cell_text(stored))) is type(stored)


def test_rows_that_make_no_pair_are_problems():
    pairs = pairs_from_rows(["color", "", "color", " size "], ["red", "blue", "green", "M"])
    assert dict(pairs) == {"color": "red", "size": "M"}
    assert pairs.problems == ["Row 2: the value 'blue' needs a name.", "Row 3: the name 'color' is used twice."]


def test_rows_save_typed_values_through_the_service(staff_client, catalog):
    red = catalog["red"]
    url = reverse("admin:catalog_sku_change", args=[red.pk])
    response = staff_client.post(
        url,
        sku_rows(
            red,
            ["color", "weight_g", "waterproof", "sizes", "code", ""],
            ["red", "180", "true", '["S", "M"]', '"007"', ""],
        ),
    )
    assert response.status_code == 302
    red.refresh_from_db()
    assert red.attributes == {"color": "red", "weight_g": 180, "waterproof": True, "sizes": ["S", "M"], "code": "007"}
    assert red.version == 2
    assert red.history.first().attributes == red.attributes


def test_a_nameless_value_is_an_error_and_nothing_is_saved(staff_client, catalog):
    red = catalog["red"]
    response = staff_client.post(
        reverse("admin:catalog_sku_change", args=[red.pk]), sku_rows(red, ["color", ""], ["blue", "XL"])
    )
    assert response.status_code == 200
    assert "Row 2: the value &#x27;XL&#x27; needs a name." in response.content.decode()
    red.refresh_from_db()
    assert (red.attributes, red.version) == ({"color": "red"}, 1)


def test_the_services_rules_judge_the_rows(staff_client, catalog):
    red = catalog["red"]
    deep = json.dumps({"a": {"b": {"c": {"d": {"e": 1}}}}})
    response = staff_client.post(reverse("admin:catalog_sku_change", args=[red.pk]), sku_rows(red, ["nest"], [deep]))
    assert response.status_code == 200
    assert "levels deep" in response.content.decode()
    red.refresh_from_db()
    assert red.version == 1


def test_the_raw_json_switch_posts_the_text(staff_client, catalog):
    red = catalog["red"]
    url = reverse("admin:catalog_sku_change", args=[red.pk])
    response = staff_client.post(
        url, sku_rows(red, ["ignored"], ["x"], attributes='{"color": "navy", "n": 2}', attributes__mode="raw")
    )
    assert response.status_code == 302
    red.refresh_from_db()
    assert red.attributes == {"color": "navy", "n": 2}
    bad = staff_client.post(url, sku_rows(red, [], [], attributes="[1, 2]", attributes__mode="raw"))
    assert bad.status_code == 200
    body = bad.content.decode()
    assert "JSON object" in body and "attributes-editor raw" in body  # the text stays, in raw mode


def test_the_variant_grid_edits_each_skus_attributes(staff_client, catalog):
    from tests.admin.conftest import product_form

    product, red = catalog["product"], catalog["red"]
    data = product_form(
        product, {"attr_columns": 2, "attr-1": "finish", f"v-{red.pk}-a1": "matte", f"v-{catalog['blue'].pk}-a1": ""}
    )
    response = staff_client.post(reverse("admin:catalog_product_change", args=[product.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    red.refresh_from_db()
    assert red.attributes == {"color": "red", "finish": "matte"}
