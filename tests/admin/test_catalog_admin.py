"""Catalog admin: saves go through the services, stale saves are refused, the tree moves."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog import services
from catalog.models import SKU, Category, Product
from tests.admin.conftest import product_form, text_of
from tests.catalog.factories import CategoryFactory, ProductFactory, SKUFactory

pytestmark = pytest.mark.django_db

STALE = "changed by someone else since you opened it"


def category_data(category, **changes):
    data = {
        "name": category.name,
        "parent": category.parent_id or "",
        "description": category.description,
        "attributes": json.dumps(category.attributes),
        "expected_version": category.version,
    }
    return {**data, **changes}


class TestCategoryForm:
    def test_edit_goes_through_the_service(self, staff_client, catalog):
        phones = catalog["phones"]
        url = reverse("admin:catalog_category_change", args=[phones.pk])
        response = staff_client.post(url, category_data(phones, name="Mobiles"))
        assert response.status_code == 302
        phones.refresh_from_db()
        assert (phones.name, phones.path, phones.version) == ("Mobiles", "Electronics/Mobiles", 2)
        assert phones.history.first().history_user.username == "admin"

    def test_stale_save_writes_nothing(self, staff_client, catalog):
        phones = catalog["phones"]
        url = reverse("admin:catalog_category_change", args=[phones.pk])
        opened = category_data(phones)
        assert staff_client.post(url, category_data(phones, description="first")).status_code == 302
        response = staff_client.post(url, {**opened, "description": "second"})
        assert response.status_code == 200
        assert STALE in response.content.decode()
        phones.refresh_from_db()
        assert (phones.description, phones.version) == ("first", 2)

    def test_parent_cannot_be_itself_or_below(self, staff_client, catalog):
        electronics, phones = catalog["electronics"], catalog["phones"]
        url = reverse("admin:catalog_category_change", args=[electronics.pk])
        response = staff_client.post(url, category_data(electronics, parent=phones.pk))
        assert response.status_code == 200
        assert "cannot be moved under itself" in response.content.decode()
        electronics.refresh_from_db()
        assert electronics.parent_id is None and electronics.version == 1

    def test_service_refusal_shows_the_form_again(self, staff_client, catalog):
        CategoryFactory(name="Tablets", parent=catalog["electronics"])
        phones = catalog["phones"]
        url = reverse("admin:catalog_category_change", args=[phones.pk])
        response = staff_client.post(url, category_data(phones, name="tablets"))
        assert response.status_code == 200
        assert 'value="tablets"' in response.content.decode()  # the user's input is kept
        assert "already has a category named" in response.content.decode()
        phones.refresh_from_db()
        assert phones.name == "Phones"

    def test_service_error_lands_on_its_field(self, staff_client, catalog):
        gone = CategoryFactory(name="Gone")
        Category.all_objects.filter(pk=gone.pk).update(is_deleted=True)
        phones = catalog["phones"]
        url = reverse("admin:catalog_category_change", args=[phones.pk])
        response = staff_client.post(url, category_data(phones, parent=gone.pk, description="moved"))
        assert response.status_code == 200
        assert "does not exist or is deleted" in str(response.context["adminform"].form.errors["parent"])
        phones.refresh_from_db()
        assert (phones.parent_id, phones.description, phones.version) == (catalog["electronics"].pk, "", 1)

    def test_create_through_the_form(self, staff_client, catalog):
        response = staff_client.post(
            reverse("admin:catalog_category_add"),
            {
                "name": "Cases",
                "parent": catalog["phones"].pk,
                "description": "",
                "attributes": "",
            },
        )
        assert response.status_code == 302
        assert Category.objects.get(name="Cases").path == "Electronics/Phones/Cases"

    @pytest.mark.parametrize(
        "attributes,error",
        [
            ("[1, 2]", "Must be a JSON object"),
            (json.dumps({"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}), "at most 5 levels"),
            (json.dumps({"big": "x" * 17000}), "16"),
        ],
    )
    def test_attributes_validated_like_the_api(self, staff_client, catalog, attributes, error):
        phones = catalog["phones"]
        url = reverse("admin:catalog_category_change", args=[phones.pk])
        response = staff_client.post(url, category_data(phones, attributes=attributes))
        assert response.status_code == 200
        assert error in response.content.decode()
        phones.refresh_from_db()
        assert phones.version == 1

    def test_attributes_shown_as_rows_with_the_raw_json_behind_a_switch(self, staff_client, catalog):
        sku = catalog["red"]
        body = staff_client.get(reverse("admin:catalog_sku_change", args=[sku.pk])).content.decode()
        assert 'name="attributes__key" value="color"' in body
        assert 'name="attributes__value" value="red"' in body
        assert 'class="json-editor attribute-raw"' in body and 'name="attributes__mode" value="raw"' in body
        assert "{\n  &quot;color&quot;: &quot;red&quot;\n}" in body


class TestCategoryTree:
    def move(self, client, cut, target, position="last-child"):
        return client.post(
            reverse("admin:catalog_category_changelist"),
            {
                "cmd": "move_node",
                "cut_item": cut.pk,
                "pasted_on": target.pk,
                "position": position,
            },
        )

    def test_drag_and_drop_moves_through_the_service(self, staff_client, catalog):
        home = CategoryFactory(name="Home")
        response = self.move(staff_client, catalog["phones"], home)
        assert response.content == b"OK, moved."
        phones = Category.objects.get(pk=catalog["phones"].pk)
        assert (phones.parent_id, phones.path, phones.version) == (home.pk, "Home/Phones", 2)

    def test_drop_under_itself_is_refused(self, staff_client, catalog):
        response = self.move(staff_client, catalog["electronics"], catalog["phones"])
        assert response.content.startswith(b"FAIL")
        assert Category.objects.get(pk=catalog["electronics"].pk).parent_id is None

    def test_move_needs_change_permission(self, client, catalog):
        from tests.conftest import grant
        from tests.factories import UserFactory

        user = grant(UserFactory(), "catalog.view_category")
        client.force_login(user)
        response = self.move(client, catalog["phones"], CategoryFactory(name="Home"))
        assert response.content.startswith(b"FAIL")
        assert Category.objects.get(pk=catalog["phones"].pk).parent_id == catalog["electronics"].pk

    def test_top_level_by_default_children_on_demand(self, staff_client, catalog):
        url = reverse("admin:catalog_category_changelist")
        top = staff_client.get(url)
        assert [c.name for c in top.context["cl"].result_list] == ["Electronics"]
        assert "1 inside" in top.content.decode()
        inside = staff_client.get(url, {"parent": catalog["electronics"].pk})
        assert [c.name for c in inside.context["cl"].result_list] == ["Phones"]
        found = staff_client.get(url, {"q": "phon"})
        assert [c.name for c in found.context["cl"].result_list] == ["Phones"]

    def test_cumulative_product_counts(self, staff_client, catalog):
        ProductFactory(category=catalog["electronics"])
        deleted = ProductFactory(category=catalog["phones"])
        Product.all_objects.filter(pk=deleted.pk).update(is_deleted=True)
        response = staff_client.get(reverse("admin:catalog_category_changelist"), {"parent": "all"})
        counts = {c.name: c.active_product_count for c in response.context["cl"].result_list}
        assert counts == {"Electronics": 2, "Phones": 1}

    def test_deleted_filter_defaults_to_active(self, staff_client, catalog):
        gone = CategoryFactory(name="Gone")
        Category.all_objects.filter(pk=gone.pk).update(is_deleted=True)
        url = reverse("admin:catalog_category_changelist")
        assert "Gone" not in [c.name for c in staff_client.get(url).context["cl"].result_list]
        deleted = staff_client.get(url, {"deleted": "deleted"}).context["cl"].result_list
        assert [c.name for c in deleted] == ["Gone"]

    def test_soft_delete_and_restore_actions(self, staff_client, catalog):
        leaf = CategoryFactory(name="Leaf", parent=catalog["phones"])
        url = reverse("admin:catalog_category_changelist")
        staff_client.post(
            url, {"action": "soft_delete_selected", "_selected_action": [leaf.pk, catalog["phones"].pk], "post": "yes"}
        )
        leaf.refresh_from_db()
        assert leaf.is_deleted
        assert not Category.all_objects.get(pk=catalog["phones"].pk).is_deleted  # has a product: refused
        staff_client.post(url + "?deleted=deleted", {"action": "restore_selected", "_selected_action": [leaf.pk]})
        leaf.refresh_from_db()
        assert not leaf.is_deleted and leaf.version == 3


class TestProducts:
    def test_add_product_with_two_skus_in_the_grid(self, staff_client, catalog):
        blank = Product(name="Case", category=catalog["phones"], description="", attributes={})
        data = product_form(
            blank,
            {
                "attr_columns": 1,
                "attr-0": "size",
                "n-0-code": "CASE-S",
                "n-0-price": "9.90",
                "n-0-a0": "S",
                "n-0-status": "active",
                "n-0-backorder_policy": "deny",
                "n-1-code": "CASE-M",
                "n-1-price": "10.90",
                "n-1-a0": "",
                "n-1-status": "active",
                "n-1-backorder_policy": "deny",
            },
            new_rows=3,
        )
        data.pop("expected_version")
        response = staff_client.post(reverse("admin:catalog_product_add"), data)
        assert response.status_code == 302, response.context["errors"] if response.context else response
        product = Product.objects.get(name="Case")
        assert sorted(product.skus.values_list("sku_code", "price")) == [
            ("CASE-M", Decimal("10.90")),
            ("CASE-S", Decimal("9.90")),
        ]
        assert SKU.objects.get(sku_code="CASE-S").attributes == {"size": "S"}
        assert SKU.objects.get(sku_code="CASE-M").attributes == {}

    def test_grid_edit_and_soft_delete(self, staff_client, catalog):
        product, red, blue = catalog["product"], catalog["red"], catalog["blue"]
        data = product_form(product, {f"v-{red.pk}-price": "450.00", f"v-{blue.pk}-status": "inactive"})
        response = staff_client.post(reverse("admin:catalog_product_change", args=[product.pk]), data)
        assert response.status_code == 302, response.context["errors"]
        red.refresh_from_db()
        assert (red.price, red.version) == (Decimal("450.00"), 2)
        assert SKU.all_objects.get(pk=blue.pk).is_deleted

    def test_a_blank_new_row_is_not_created(self, staff_client, catalog):
        product = catalog["product"]
        before = SKU.all_objects.count()
        response = staff_client.post(
            reverse("admin:catalog_product_change", args=[product.pk]),
            product_form(product, {"n-0-status": "active"}, new_rows=2),
        )
        assert response.status_code == 302
        assert SKU.all_objects.count() == before

    def test_duplicate_code_in_a_new_row_is_shown_and_nothing_saved(self, staff_client, catalog):
        product = catalog["product"]
        data = product_form(
            product, {"n-0-code": "phone-x-red", "n-0-price": "1.00", "description": "changed"}, new_rows=1
        )
        response = staff_client.post(reverse("admin:catalog_product_change", args=[product.pk]), data)
        assert response.status_code == 200
        errors = " ".join(str(e) for e in response.context["errors"])
        assert "phone-x-red: SKU code &#x27;phone-x-red&#x27; is taken" in errors
        product.refresh_from_db()
        assert product.description == "A phone"

    def test_stale_sku_in_the_grid_writes_nothing(self, staff_client, catalog):
        product, red = catalog["product"], catalog["red"]
        opened = product_form(product)
        from catalog.services import sku_update

        sku_update(sku_id=red.pk, price=Decimal("1.00"))
        data = {**opened, f"v-{red.pk}-price": "2.00", "description": "new text"}
        response = staff_client.post(reverse("admin:catalog_product_change", args=[product.pk]), data)
        assert response.status_code == 200
        assert "PHONE-X-RED: Changed by someone else since you opened this page" in text_of(response)
        product.refresh_from_db()
        red.refresh_from_db()
        assert (product.description, red.price) == ("A phone", Decimal("1.00"))

    def test_stale_product_save_writes_nothing(self, staff_client, catalog):
        product = catalog["product"]
        opened = product_form(product)
        from catalog.services import product_update

        product_update(product_id=product.pk, description="by someone else")
        response = staff_client.post(
            reverse("admin:catalog_product_change", args=[product.pk]),
            {**opened, "name": "Mine"},
        )
        assert STALE in response.content.decode()
        product.refresh_from_db()
        assert (product.name, product.description) == ("Phone X", "by someone else")

    def test_list_columns_filters_and_search(self, staff_client, catalog):
        other = ProductFactory(name="Lamp", category=CategoryFactory(name="Home"))
        url = reverse("admin:catalog_product_changelist")
        rows = staff_client.get(url).context["cl"].result_list
        phone = next(p for p in rows if p.pk == catalog["product"].pk)
        assert (phone.sku_count, phone.available_total) == (2, 13)
        assert [
            p.name
            for p in staff_client.get(url, {"category_tree": catalog["electronics"].pk}).context["cl"].result_list
        ] == ["Phone X"]
        assert [p.name for p in staff_client.get(url, {"q": "phone-x-blue"}).context["cl"].result_list] == ["Phone X"]
        assert [p.name for p in staff_client.get(url, {"stock": "out"}).context["cl"].result_list] == [other.name]
        assert [p.name for p in staff_client.get(url, {"stock": "in"}).context["cl"].result_list] == ["Phone X"]

    def test_export_csv_action(self, staff_client, catalog):
        response = staff_client.post(
            reverse("admin:catalog_product_changelist"),
            {
                "action": "export_csv",
                "_selected_action": [catalog["product"].pk],
            },
        )
        assert response["Content-Type"].startswith("text/csv")
        lines = response.content.decode().splitlines()
        assert lines[1].split(",")[1:3] == ["Phone X", "Electronics/Phones"]

    def test_product_soft_delete_cascades_and_restores(self, staff_client, catalog):
        url = reverse("admin:catalog_product_changelist")
        product = catalog["product"]
        staff_client.post(url, {"action": "soft_delete_selected", "_selected_action": [product.pk], "post": "yes"})
        assert Product.all_objects.get(pk=product.pk).is_deleted
        assert not SKU.objects.filter(product=product).exists()
        staff_client.post(url + "?deleted=deleted", {"action": "restore_selected", "_selected_action": [product.pk]})
        assert SKU.objects.filter(product=product).count() == 2


class TestConstantQueries:
    def make(self, n):
        category = CategoryFactory(name=f"Bulk {n}")
        for i in range(n):
            product = ProductFactory(name=f"P{n}-{i}", category=category)
            SKUFactory(product=product)
        return category

    def count_queries(self, client, url, params, django_assert_max_num_queries):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, params)
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.context["cl"].result_list)

    @pytest.mark.parametrize("name,lookup", [("catalog_product", "category_tree"), ("catalog_sku", "category_tree")])
    def test_changelist_queries_do_not_grow_with_rows(self, staff_client, django_assert_max_num_queries, name, lookup):
        small, big = self.make(10), self.make(100)
        url = reverse(f"admin:{name}_changelist")
        few, rows_few = self.count_queries(staff_client, url, {lookup: small.pk}, django_assert_max_num_queries)
        many, rows_many = self.count_queries(staff_client, url, {lookup: big.pk}, django_assert_max_num_queries)
        assert (rows_few, rows_many) == (10, 100)
        assert many == few


class TestPurge:
    def test_hard_delete_needs_purge_permission(self, client, catalog):
        from tests.conftest import grant
        from tests.factories import UserFactory

        leaf = CategoryFactory(name="Leaf")
        user = grant(UserFactory(), "catalog.view_category", "catalog.change_category", "catalog.delete_category")
        client.force_login(user)
        url = reverse("admin:catalog_category_delete", args=[leaf.pk])
        assert client.post(url, {"post": "yes"}).status_code == 403
        grant(user, "catalog.purge_category")
        assert client.post(url, {"post": "yes"}).status_code == 302
        assert not Category.all_objects.filter(pk=leaf.pk).exists()

    def test_purge_of_a_category_in_use_is_refused(self, staff_client, catalog):
        url = reverse("admin:catalog_category_delete", args=[catalog["phones"].pk])
        response = staff_client.post(url, {"post": "yes"}, follow=True)
        assert "Cannot delete category" in response.content.decode()
        assert Category.all_objects.filter(pk=catalog["phones"].pk).exists()


def test_history_revert_uses_current_version(staff_client, catalog):
    phones = catalog["phones"]
    url = reverse("admin:catalog_category_change", args=[phones.pk])
    staff_client.post(url, category_data(phones, description="v2"))
    first = phones.history.order_by("history_id").first()
    revert_url = reverse("admin:catalog_category_simple_history", args=[phones.pk, first.history_id])
    page = staff_client.get(revert_url)
    assert page.status_code == 200
    assert 'name="expected_version" value="2"' in page.content.decode()
    response = staff_client.post(revert_url, category_data(phones, description="", expected_version=2))
    assert response.status_code == 302
    phones.refresh_from_db()
    assert (phones.description, phones.version) == ("", 3)


@pytest.mark.django_db(transaction=True)
class TestHistoryRevert:
    """Reverting to a recorded version (django-simple-history) goes through the update
    service: in a transaction, version-checked, validated, and recorded as a change.

    Transactional: inside a test's outer transaction the old revert view did not fail
    (`select_for_update cannot be used outside of a transaction`), in production it did."""

    @staticmethod
    def _revert_url(obj, record):
        return reverse(f"admin:catalog_{obj._meta.model_name}_simple_history", args=[obj.pk, record.history_id])

    def test_revert_of_a_product(self, staff_client, catalog):
        product = catalog["product"]
        services.product_update(product_id=product.pk, name="Phone X2", description="new")
        product.refresh_from_db()
        first = product.history.order_by("history_id").first()
        form = staff_client.get(self._revert_url(product, first))
        assert form.status_code == 200
        data = {**product_form(product), "name": first.name, "description": first.description}
        response = staff_client.post(self._revert_url(product, first), data)
        assert response.status_code == 302, response.content.decode()[:2000]
        product.refresh_from_db()
        assert (product.name, product.description, product.version) == ("Phone X", "A phone", 3)
        latest = product.history.first()
        assert (latest.name, latest.version, latest.history_user.username) == ("Phone X", 3, "admin")

    def test_revert_of_a_sku(self, staff_client, catalog):
        red = catalog["red"]
        services.sku_update(sku_id=red.pk, price=Decimal("1.00"))
        red.refresh_from_db()
        first = red.history.order_by("history_id").first()
        data = {
            "sku_code": first.sku_code,
            "product": first.product_id,
            "price": str(first.price),
            "attributes": json.dumps(first.attributes),
            "expected_version": red.version,
        }
        response = staff_client.post(self._revert_url(red, first), data)
        assert response.status_code == 302
        red.refresh_from_db()
        assert (str(red.price), red.version) == ("499.00", 3)

    def test_a_stale_revert_writes_nothing(self, staff_client, catalog):
        red = catalog["red"]
        first = red.history.order_by("history_id").first()
        opened = red.version
        services.sku_update(sku_id=red.pk, price=Decimal("2.00"))
        data = {
            "sku_code": red.sku_code,
            "product": red.product_id,
            "price": "499.00",
            "attributes": "{}",
            "expected_version": opened,
        }
        response = staff_client.post(self._revert_url(red, first), data)
        assert response.status_code == 200
        assert STALE in response.content.decode()
        red.refresh_from_db()
        assert (str(red.price), red.version) == ("2.00", 2)

    def test_a_revert_the_rules_refuse_shows_the_error(self, staff_client, catalog):
        phones = catalog["phones"]
        first = phones.history.order_by("history_id").first()
        response = staff_client.post(self._revert_url(phones, first), category_data(phones, name="Bad/Name"))
        assert response.status_code == 200
        assert "Must not contain &#x27;/&#x27;" in response.content.decode()
        phones.refresh_from_db()
        assert (phones.name, phones.version) == ("Phones", 1)
