"""`setup_roles` and `ensure_admin`, and what each role may do in the admin."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from inventory_site.roles import ROLES
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def perms_of(group_name):
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_setup_roles_creates_the_groups_and_is_idempotent(capsys):
    call_command("setup_roles")
    first = {name: perms_of(name) for name in ROLES}
    Group.objects.get(name="Merchandiser").permissions.clear()  # drift is repaired
    call_command("setup_roles")
    assert {name: perms_of(name) for name in ROLES} == first
    assert Group.objects.filter(name__in=ROLES).count() == 4
    assert "Roles are set up." in capsys.readouterr().out


def test_role_permissions_follow_the_spec():
    call_command("setup_roles")
    merch, clerk, integ, manager = (
        perms_of(n) for n in ("Merchandiser", "Stock clerk", "Integration", "Inventory manager")
    )
    assert {"catalog.add_product", "catalog.change_sku", "catalog.delete_category", "stock.view_stocklevel"} <= merch
    assert not {"catalog.purge_product", "stock.adjust_stock"} & merch
    assert {"stock.adjust_stock", "stock.transfer_stock", "catalog.view_sku", "stock.view_stockmovement"} <= clerk
    assert not {"catalog.change_product", "catalog.add_sku"} & clerk
    assert {
        "catalog.view_sku",
        "stock.add_reservation",
        "stock.commit_reservation",
        "stock.release_reservation",
    } <= integ
    assert not {"catalog.change_sku", "stock.adjust_stock"} & integ
    assert {
        "catalog.purge_category",
        "catalog.purge_product",
        "catalog.purge_sku",
        "stock.purge_warehouse",
        "stock.adjust_stock",
        "stock.transfer_stock",
    } <= manager
    assert merch | clerk | integ <= manager


def login_as(client, group_name):
    call_command("setup_roles")
    user = UserFactory()
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    return client


def test_stock_clerk_can_adjust_but_not_edit_the_catalog(client, catalog):
    login_as(client, "Stock clerk")
    assert client.get(reverse("admin:stock_stocklevel_adjust")).status_code == 200
    assert client.get(reverse("admin:catalog_product_add")).status_code == 403
    page = client.get(reverse("admin:catalog_product_change", args=[catalog["product"].pk]))
    assert page.status_code == 200 and 'name="name"' not in page.content.decode()


def test_merchandiser_edits_catalog_but_cannot_adjust_or_purge(client, catalog):
    login_as(client, "Merchandiser")
    assert client.get(reverse("admin:catalog_product_add")).status_code == 200
    assert client.get(reverse("admin:stock_stocklevel_adjust")).status_code == 403
    assert client.get(reverse("admin:catalog_product_delete", args=[catalog["product"].pk])).status_code == 403
    actions = client.get(reverse("admin:catalog_product_changelist")).content.decode()
    assert 'value="soft_delete_selected"' in actions and 'value="delete_selected"' not in actions


def test_ensure_admin_creates_once(monkeypatch, capsys):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    call_command("ensure_admin")
    out = capsys.readouterr().out
    assert "Admin: http://127.0.0.1:8000/admin/  login: admin  password: " in out
    password = out.split("password: ")[1].split()[0]
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.check_password(password)
    call_command("ensure_admin", url="http://127.0.0.1:8080/admin/")
    again = capsys.readouterr().out
    assert "Admin: http://127.0.0.1:8080/admin/  login: admin" in again
    assert "python manage.py changepassword admin" in again and password not in again
    assert get_user_model().objects.filter(is_superuser=True).count() == 1


def test_ensure_admin_takes_the_password_from_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("ADMIN_PASSWORD", "a-long-secret-1")
    call_command("ensure_admin")
    assert "a-long-secret-1" not in capsys.readouterr().out
    assert get_user_model().objects.get(username="admin").check_password("a-long-secret-1")
