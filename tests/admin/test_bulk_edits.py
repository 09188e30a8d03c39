"""Bulk actions on products and SKUs: move to a category, change prices by an amount or a
percentage; previewed (the services' dry run), then applied all or nothing."""

from decimal import Decimal

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from catalog import services
from catalog.exceptions import BulkEditRefused
from catalog.models import SKU, Product
from tests.catalog.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def action(client, model, name, ids, **data):
    return client.post(
        reverse(f"admin:catalog_{model}_changelist"),
        {"action": name, helpers.ACTION_CHECKBOX_NAME: [str(i) for i in ids], **data},
    )


@pytest.mark.parametrize(
    "price, by, after",
    [
        ("10.00", {"amount": Decimal("2.5")}, "12.50"),
        ("10.00", {"percent": Decimal("-10")}, "9.00"),
        ("19.99", {"percent": Decimal("15")}, "22.99"),  # 22.9885 rounds half up to the cent
        ("0.05", {"percent": Decimal("10")}, "0.06"),
    ],
)
def test_price_after(price, by, after):
    assert str(services.price_after(Decimal(price), **by)) == after


def test_reprice_dry_run_writes_nothing_and_apply_writes_all(catalog):
    red, blue = catalog["red"], catalog["blue"]
    preview = services.skus_reprice(sku_ids=[red.pk, blue.pk], percent=Decimal("-10"), dry_run=True)
    assert [(c.label, c.before, c.after, c.error) for c in preview] == [
        ("PHONE-X-RED", "499.00", "449.10", ""),
        ("PHONE-X-BLUE", "499.00", "449.10", ""),
    ]
    red.refresh_from_db()
    assert (red.price, red.version, red.history.count()) == (Decimal("499.00"), 1, 1)
    services.skus_reprice(
        sku_ids=[red.pk, blue.pk], percent=Decimal("-10"), versions={c.pk: c.version for c in preview}
    )
    assert set(SKU.objects.values_list("price", flat=True)) == {Decimal("449.10")}


def test_one_refused_row_and_nothing_changes(catalog):
    red, blue = catalog["red"], catalog["blue"]
    SKU.objects.filter(pk=blue.pk).update(price=Decimal("1.00"))
    with pytest.raises(BulkEditRefused) as refused:
        services.skus_reprice(sku_ids=[red.pk, blue.pk], amount=Decimal("-5"))
    by_code = {c.label: c for c in refused.value.changes}
    assert by_code["PHONE-X-BLUE"].error == "Price -4.00 is not between 0 and 99999999.99."
    assert by_code["PHONE-X-RED"].error == ""
    assert SKU.objects.get(pk=red.pk).price == Decimal("499.00")


def test_a_row_changed_since_the_preview_is_refused(catalog):
    red = catalog["red"]
    preview = services.skus_reprice(sku_ids=[red.pk], amount=Decimal("1"), dry_run=True)
    services.sku_update(sku_id=red.pk, price=Decimal("500.00"))
    with pytest.raises(BulkEditRefused) as refused:
        services.skus_reprice(sku_ids=[red.pk], amount=Decimal("1"), versions={c.pk: c.version for c in preview})
    assert refused.value.changes[0].error == "Changed by someone else since the preview (now version 2)."
    assert SKU.objects.get(pk=red.pk).price == Decimal("500.00")


def test_move_refuses_a_taken_name_for_every_row(catalog):
    audio = CategoryFactory(name="Audio", parent=catalog["electronics"])
    ProductFactory(name="Phone X", category=audio)
    other = ProductFactory(name="Speaker", category=catalog["phones"])
    with pytest.raises(BulkEditRefused) as refused:
        services.products_move(product_ids=[catalog["product"].pk, other.pk], category_id=audio.pk)
    errors = {c.label: c.error for c in refused.value.changes}
    assert "already exists in this category" in errors["Phone X"] and errors["Speaker"] == ""
    assert Product.objects.get(pk=other.pk).category_id == catalog["phones"].pk


class TestAdmin:
    def test_price_change_on_skus_preview_then_apply(self, staff_client, catalog):
        red, blue = catalog["red"], catalog["blue"]
        page = action(staff_client, "sku", "change_price", [red.pk, blue.pk])
        assert page.status_code == 200 and "Change SKU prices" in page.content.decode()
        preview = action(
            staff_client, "sku", "change_price", [red.pk, blue.pk], how="amount", value="-9.00", bulk_step="preview"
        )
        body = preview.content.decode()
        assert "2 SKUs will change" in body and "<td>499.00</td><td>490.00</td>" in body
        assert SKU.objects.get(pk=red.pk).price == Decimal("499.00")
        previewed = preview.context["previewed"]
        done = action(
            staff_client,
            "sku",
            "change_price",
            [red.pk, blue.pk],
            how="amount",
            value="-9.00",
            bulk_step="apply",
            previewed=previewed,
            **{f"version_{red.pk}": 1, f"version_{blue.pk}": 1},
        )
        assert done.status_code == 302
        assert set(SKU.objects.values_list("price", flat=True)) == {Decimal("490.00")}
        assert SKU.objects.get(pk=red.pk).history.first().history_user.username == "admin"

    def test_apply_of_another_choice_than_the_preview_previews_again(self, staff_client, catalog):
        red = catalog["red"]
        response = action(
            staff_client,
            "sku",
            "change_price",
            [red.pk],
            how="percent",
            value="50",
            bulk_step="apply",
            previewed="how=percent&value=5.00",
            **{f"version_{red.pk}": 1},
        )
        assert response.status_code == 200
        assert "The choice changed since the preview" in response.content.decode()
        assert SKU.objects.get(pk=red.pk).price == Decimal("499.00")

    def test_refused_rows_are_shown_and_apply_is_not_offered(self, staff_client, catalog):
        red, blue = catalog["red"], catalog["blue"]
        SKU.objects.filter(pk=blue.pk).update(price=Decimal("3.00"))
        preview = action(
            staff_client, "sku", "change_price", [red.pk, blue.pk], how="amount", value="-5", bulk_step="preview"
        )
        body = preview.content.decode()
        assert "1 of 2 SKUs cannot be changed" in body and "not between 0 and 99999999.99" in body
        assert 'value="apply"' not in body

    def test_move_products_preview_then_apply(self, staff_client, catalog):
        audio = CategoryFactory(name="Audio", parent=catalog["electronics"])
        product = catalog["product"]
        preview = action(
            staff_client, "product", "move_to_category", [product.pk], category=audio.pk, bulk_step="preview"
        )
        body = preview.content.decode()
        assert "<td>Electronics/Phones</td><td>Electronics/Audio</td>" in body
        done = action(
            staff_client,
            "product",
            "move_to_category",
            [product.pk],
            category=audio.pk,
            bulk_step="apply",
            previewed=preview.context["previewed"],
            **{f"version_{product.pk}": 1},
        )
        assert done.status_code == 302
        product.refresh_from_db()
        assert product.category_id == audio.pk

    def test_price_change_on_products_changes_their_skus(self, staff_client, catalog):
        product = catalog["product"]
        preview = action(
            staff_client, "product", "change_price", [product.pk], how="percent", value="10", bulk_step="preview"
        )
        assert "2 SKUs will change" in preview.content.decode()
        versions = {f"version_{c.pk}": c.version for c in preview.context["changes"]}
        action(
            staff_client,
            "product",
            "change_price",
            [product.pk],
            how="percent",
            value="10",
            bulk_step="apply",
            previewed=preview.context["previewed"],
            **versions,
        )
        assert set(SKU.objects.values_list("price", flat=True)) == {Decimal("548.90")}

    def test_a_viewer_has_no_bulk_actions(self, client, catalog):
        from django.contrib.auth.models import Permission

        from tests.factories import UserFactory

        viewer = UserFactory(username="viewer", is_staff=True)
        viewer.user_permissions.add(Permission.objects.get(codename="view_sku"))
        client.force_login(viewer)
        body = client.get(reverse("admin:catalog_sku_changelist")).content.decode()
        assert "change_price" not in body and "move_to_category" not in body


class TestMoveCategories:
    def test_move_to_across_levels_preview_then_apply(self, staff_client, catalog):
        from catalog.models import Category

        garden = CategoryFactory(name="Garden")
        tools = CategoryFactory(name="Tools", parent=garden)
        phones = catalog["phones"]
        preview = action(
            staff_client,
            "category",
            "move_categories",
            [phones.pk, garden.pk],
            target=catalog["electronics"].pk,
            position="last-child",
            bulk_step="preview",
        )
        body = preview.content.decode()
        assert "<td>Garden</td><td>Electronics/Garden</td>" in body
        assert Category.objects.get(pk=garden.pk).parent_id is None  # the preview moved nothing
        versions = {f"version_{c.pk}": c.version for c in preview.context["changes"]}
        done = action(
            staff_client,
            "category",
            "move_categories",
            [phones.pk, garden.pk],
            target=catalog["electronics"].pk,
            position="last-child",
            bulk_step="apply",
            previewed=preview.context["previewed"],
            **versions,
        )
        assert done.status_code == 302
        tools.refresh_from_db()
        assert tools.path == "Electronics/Garden/Tools"

    def test_a_move_under_itself_is_refused_and_nothing_moves(self, staff_client, catalog):
        from catalog.models import Category

        garden = CategoryFactory(name="Garden")
        preview = action(
            staff_client,
            "category",
            "move_categories",
            [garden.pk, catalog["electronics"].pk],
            target=catalog["phones"].pk,
            position="last-child",
            bulk_step="preview",
        )
        body = preview.content.decode()
        assert "1 of 2 categories cannot be changed" in body and "under itself" in body
        assert Category.objects.get(pk=garden.pk).parent_id is None

    def test_the_tree_shows_each_branchs_product_count_for_the_drop_confirmation(self, staff_client, catalog):
        body = staff_client.get(reverse("admin:catalog_category_changelist")).content.decode()
        assert 'class="branch-products" data-count="1"' in body
        assert "admin-ext/category-move-confirm.js" in body
