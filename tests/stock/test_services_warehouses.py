"""Warehouse services and the idempotency-key services."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from inventory_site.exceptions import VersionConflict
from stock.exceptions import Duplicate, HasDependents, IdempotencyKeyInUse, IdempotencyKeyReused, InvalidInput
from stock.models import IdempotencyRecord, StockLevel, Warehouse
from stock.services import (
    idempotency_abandon,
    idempotency_begin,
    idempotency_complete,
    idempotency_purge_expired,
    stock_adjust,
    stock_receive,
    warehouse_create,
    warehouse_hard_delete,
    warehouse_restore,
    warehouse_soft_delete,
    warehouse_update,
)

pytestmark = pytest.mark.django_db


def test_create_uppercases_and_refuses_duplicates(main):
    warehouse = warehouse_create(code="west", name="West")
    assert warehouse.code == "WEST" and warehouse.version == 1
    with pytest.raises(Duplicate):
        warehouse_create(code="WEST", name="Again")


def test_new_default_unsets_old(main):
    east = warehouse_create(code="EAST", name="East", is_default=True)
    main.refresh_from_db()
    assert east.is_default and not main.is_default
    warehouse_update(warehouse=main, is_default=True)
    assert list(Warehouse.objects.filter(is_default=True)) == [main]
    with pytest.raises(InvalidInput):
        warehouse_update(warehouse=main, is_default=False)


def test_update_version_check(other):
    warehouse_update(warehouse=other, name="E2", expected_version=1)
    with pytest.raises(VersionConflict):
        warehouse_update(warehouse=other, name="E3", expected_version=1)


def test_soft_delete_rules(main, other, sku):
    with pytest.raises(InvalidInput):
        warehouse_soft_delete(warehouse=main)
    stock_receive(sku=sku, warehouse=other, quantity=1)
    with pytest.raises(HasDependents):
        warehouse_soft_delete(warehouse=other)
    empty = warehouse_create(code="EMPTY", name="Empty")
    deleted = warehouse_soft_delete(warehouse=empty)
    assert deleted.is_deleted and deleted.version == 2
    with pytest.raises(Duplicate):
        warehouse_create(code="empty", name="Again")
    restored = warehouse_restore(warehouse=empty)
    assert not restored.is_deleted and restored.version == 3


def test_hard_delete(other, sku):
    stock_receive(sku=sku, warehouse=other, quantity=1)
    with pytest.raises(HasDependents):
        warehouse_hard_delete(warehouse=other)
    empty = warehouse_create(code="EMPTY", name="Empty")
    warehouse_hard_delete(warehouse=empty)
    assert not Warehouse.all_objects.filter(code="EMPTY").exists()


def test_idempotency_lifecycle(admin_user):
    record, run = idempotency_begin(user=admin_user, key="k", fingerprint="f1")
    assert run
    with pytest.raises(IdempotencyKeyInUse):
        idempotency_begin(user=admin_user, key="k", fingerprint="f1")
    with pytest.raises(IdempotencyKeyReused):
        idempotency_begin(user=admin_user, key="k", fingerprint="f2")
    idempotency_complete(record=record, status=201, body={"status": "success"})
    stored, run = idempotency_begin(user=admin_user, key="k", fingerprint="f1")
    assert not run and stored.response_status == 201 and stored.response_body == {"status": "success"}
    idempotency_abandon(record=record)
    assert idempotency_begin(user=admin_user, key="k", fingerprint="f2")[1]


def test_idempotency_expiry_and_abandoned_claims(admin_user):
    old, _ = idempotency_begin(user=admin_user, key="old", fingerprint="f")
    idempotency_complete(record=old, status=201, body={})
    stuck, _ = idempotency_begin(user=admin_user, key="stuck", fingerprint="f")
    IdempotencyRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    IdempotencyRecord.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    assert idempotency_begin(user=admin_user, key="old", fingerprint="other")[1]
    assert idempotency_begin(user=admin_user, key="stuck", fingerprint="f")[1]
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency_purge_expired() == 2


@pytest.mark.parametrize("face", ["hard delete", "purge"])
def test_deleting_for_good_one_rule_for_hard_delete_and_purge(face, sku, main):
    """Empty levels never keep a warehouse; units, movements or reservation lines always do."""

    def delete(warehouse):
        if face == "hard delete":
            warehouse_hard_delete(warehouse=warehouse)
        else:
            call_command("purge_deleted", "--older-than", "0", stdout=StringIO())

    empty = warehouse_create(code="EMPTY", name="Only an empty level")
    StockLevel.objects.create(sku=sku, warehouse=empty)
    held = warehouse_create(code="HELD", name="Has a ledger")
    stock_receive(sku=sku, warehouse=held, quantity=1)
    stock_adjust(sku=sku, warehouse=held, delta=-1, reason="loss")
    for warehouse in (empty, held):
        warehouse_soft_delete(warehouse=warehouse)
    delete(Warehouse.all_objects.get(code="EMPTY"))
    assert not Warehouse.all_objects.filter(code="EMPTY").exists()
    assert not StockLevel.objects.filter(warehouse_id=empty.pk).exists()
    if face == "hard delete":
        with pytest.raises(HasDependents) as exc:
            delete(Warehouse.all_objects.get(code="HELD"))
        assert exc.value.errors == {"stock_levels": 0, "movements": 2, "reservation_lines": 0, "inbound_shipments": 0}
    else:
        delete(Warehouse.all_objects.get(code="HELD"))
    assert Warehouse.all_objects.filter(code="HELD").exists()


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"code": "BAD CODE", "name": "Spaces"}, "code"),
        ({"code": "É1", "name": "Not ASCII"}, "code"),
        ({"code": "", "name": "Empty"}, "code"),
        ({"code": "X" * 21, "name": "Too long"}, "code"),
        ({"code": "BELL", "name": "East\x07"}, "name"),
        ({"code": "BLANK", "name": "   "}, "name"),
        ({"code": "LONG", "name": "n" * 101}, "name"),
    ],
)
def test_the_service_checks_code_and_name(main, fields, bad):
    with pytest.raises(InvalidInput) as exc:
        warehouse_create(**fields)
    assert list(exc.value.errors) == [bad]
    with pytest.raises(InvalidInput):
        warehouse_update(warehouse=main, **fields)
    assert list(Warehouse.all_objects.values_list("code", "name")) == [("MAIN", main.name)]


def test_admin_warehouse_form_refuses_what_the_service_refuses(client, superuser, main):
    from django.urls import reverse

    client.force_login(superuser)
    response = client.post(
        reverse("admin:stock_warehouse_add"), {"code": "bell", "name": "East\x07", "is_active": "on"}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"] == ["Must not contain control characters."]
    assert not Warehouse.all_objects.filter(code="BELL").exists()
