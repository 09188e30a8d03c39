"""reservation_create: every reservation, of any shape, placed by one database function."""

import pytest
from django.db import connection, transaction
from django.db.models import Max
from django.test.utils import CaptureQueriesContext

from catalog.models import BackorderPolicy
from events.models import Event
from events.services import events_sequence
from stock.exceptions import LinesRefused
from stock.models import Reservation, ReservationLine, StockLevel
from stock.services import CodedLine, inbound_create, inbound_open, reservation_create, stock_receive
from stock.services.inbound import InboundLineInput
from tests.stock.factories import SKUFactory

pytestmark = pytest.mark.django_db


def place(*lines, reference="ORDER-1", ttl_seconds=900, **kwargs):
    return reservation_create(reference=reference, lines=list(lines), ttl_seconds=ttl_seconds, **kwargs)


def statements(captured) -> list[str]:
    """The captured SQL without the savepoint that the test's own transaction adds."""
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_one_line_is_one_statement_with_its_events(stocked, main):
    version = StockLevel.objects.get().version
    before = Event.objects.count()
    with CaptureQueriesContext(connection) as captured:
        reservation = place(CodedLine(stocked.sku_code.lower(), 3))
    sql = statements(captured)
    assert len(sql) == 1 and "stock_reservation_place(" in sql[0]
    assert list(Event.objects.order_by("id").values_list("type", flat=True)[before:]) == [
        "stock.level.changed",
        "reservation.created",
    ]
    stored = Reservation.objects.get()
    assert reservation.pk == stored.pk and stored.status == "active" and stored.reference == "ORDER-1"
    assert abs((stored.expires_at - stored.created_at).total_seconds() - 900) < 1
    level = StockLevel.objects.get()
    assert (level.reserved, level.version) == (3, version + 1)
    [line] = reservation.lines.all()
    assert (line.pk, line.sku_id, line.sku.sku_code, line.warehouse.code, line.quantity) == (
        ReservationLine.objects.get().pk,
        stocked.pk,
        stocked.sku_code,
        "MAIN",
        3,
    )


def test_lines_in_request_order_with_named_warehouses(stocked, main, other):
    second = SKUFactory(sku_code="MUG-1")
    stock_receive(sku=second, quantity=5, warehouse=other)
    reservation = place(CodedLine("MUG-1", 5, "east"), CodedLine(stocked.sku_code, 10))
    assert [(ln.sku.sku_code, ln.warehouse.code, ln.quantity) for ln in reservation.lines.all()] == [
        ("MUG-1", "EAST", 5),
        (stocked.sku_code, "MAIN", 10),
    ]
    assert sorted(StockLevel.objects.values_list("reserved", flat=True)) == [5, 10]


def test_two_lines_of_one_level_move_it_once(stocked, main):
    version = StockLevel.objects.get().version
    reservation = place(CodedLine(stocked.sku_code, 4), CodedLine(stocked.sku_code, 6))
    assert [ln.quantity for ln in reservation.lines.all()] == [4, 6]
    level = StockLevel.objects.get()
    assert (level.reserved, level.version) == (10, version + 1)
    assert Event.objects.filter(type="stock.out", aggregate=f"stock_level:{level.pk}").count() == 1


@pytest.mark.parametrize(
    ("lines", "errors"),
    [
        ([CodedLine("TSHIRT-RED-M", 11)], {"0": {"sku_code": "TSHIRT-RED-M", "available": 9, "requested": 11}}),
        (
            [CodedLine("TSHIRT-RED-M", 1), CodedLine("TSHIRT-RED-M", 9)],
            {"1": {"sku_code": "TSHIRT-RED-M", "available": 8, "requested": 9}},
        ),
        ([CodedLine("TSHIRT-RED-M", 1), CodedLine("NOPE", 1)], {"1": {"sku_code": ["No SKU with this code."]}}),
        ([CodedLine("TSHIRT-RED-M", 1, "NOPE")], {"0": {"warehouse": ["No warehouse with this code."]}}),
        ([CodedLine(None, 1, sku_id=10**9)], {"0": {"sku_id": ["No SKU with this id."]}}),
        ([CodedLine(None, 1)], {"0": {"sku_code": ["Give sku_code or sku_id."]}}),
        (
            [CodedLine("TSHIRT-RED-M", 2**31 - 1)],
            {"0": {"sku_code": "TSHIRT-RED-M", "available": 9, "requested": 2**31 - 1}},
        ),
    ],
)
def test_refusals_name_each_line_and_write_nothing(stocked, main, lines, errors):
    place(CodedLine("TSHIRT-RED-M", 1), reference="FIRST")
    top = Event.objects.aggregate(top=Max("id"))["top"]
    with pytest.raises(LinesRefused) as refused:
        place(*lines)
    assert refused.value.errors == {"lines": errors}
    assert StockLevel.objects.get().reserved == 1
    assert list(Reservation.objects.values_list("reference", flat=True)) == ["FIRST"]
    assert ReservationLine.objects.count() == 1 and not Event.objects.filter(id__gt=top).exists()


def test_deleted_codes_are_refused(stocked, main, other):
    type(stocked).all_objects.filter(pk=stocked.pk).update(is_deleted=True)
    type(other).all_objects.filter(pk=other.pk).update(is_deleted=True)
    with pytest.raises(LinesRefused) as refused:
        place(CodedLine(stocked.sku_code, 1, "EAST"))
    assert refused.value.code == "validation_error"
    assert refused.value.errors == {
        "lines": {"0": {"sku_code": ["This SKU is deleted."], "warehouse": ["This warehouse is deleted."]}}
    }
    assert not Reservation.objects.exists()


def test_refusal_inside_a_transaction_leaves_it_usable(stocked, main):
    with transaction.atomic():
        with pytest.raises(LinesRefused):
            place(CodedLine(stocked.sku_code, 99))
        assert place(CodedLine(stocked.sku_code, 4)) is not None
        assert not connection.needs_rollback
    assert StockLevel.objects.get().reserved == 4 and Reservation.objects.count() == 1


def test_backordered_line_waits_on_incoming_and_keeps_a_long_ttl(stocked, main):
    type(stocked).objects.filter(pk=stocked.pk).update(backorder_policy=BackorderPolicy.ALLOW_INCOMING)
    shipment = inbound_create(
        reference="PO-1", warehouse=main, lines=[InboundLineInput(sku=stocked, quantity_expected=20)]
    )
    inbound_open(shipment=shipment)
    reservation = place(CodedLine(stocked.sku_code, 15), ttl_seconds=30 * 24 * 3600)
    [line] = reservation.lines.all()
    assert (line.quantity, line.allocated, line.backordered) == (15, 10, 5)
    level = StockLevel.objects.get()
    assert (level.reserved, level.backordered, level.incoming) == (10, 5, 20)
    assert (Reservation.objects.get().expires_at - reservation.created_at).days == 30
    created = Event.objects.get(type="reservation.created")
    assert created.data["backordered"] is True and created.data["lines"][0]["backordered"] == 5
    with pytest.raises(LinesRefused) as refused:  # 15 more: only 15 incoming units are not yet backordered
        place(CodedLine(stocked.sku_code, 16))
    assert refused.value.code == "insufficient_stock"


def test_long_ttl_without_a_backorderable_line_is_refused(stocked, main):
    with pytest.raises(Exception) as refused:
        place(CodedLine(stocked.sku_code, 1), ttl_seconds=8 * 24 * 3600)
    assert refused.value.code == "validation_error"
    assert refused.value.errors == {"ttl_seconds": ["Must be between 1 and 604800."]}


def test_events_of_the_reservation(main, other):
    """Crossings of both levels (low, then out), in (sku_id, warehouse_id) order, then
    `reservation.created` (two SKUs: no sku_code); unsequenced until the sequencer numbers them."""
    mug, cup = SKUFactory(sku_code="MUG-1"), SKUFactory(sku_code="CUP-1")
    stock_receive(sku=mug, quantity=5, warehouse=other)
    stock_receive(sku=cup, quantity=8)
    StockLevel.objects.update(low_stock_threshold=3)
    top = Event.objects.aggregate(top=Max("id"))["top"] or 0
    reservation = place(CodedLine("mug-1", 5, "east"), CodedLine("CUP-1", 4), reference="ORDER-7")
    written = list(Event.objects.filter(id__gt=top).order_by("id"))
    mug_level, cup_level = StockLevel.objects.get(sku=mug), StockLevel.objects.get(sku=cup)
    by_sku = {
        mug.pk: (mug_level, ["stock.level.changed", "stock.low", "stock.out"]),
        cup.pk: (cup_level, ["stock.level.changed"]),
    }
    expected = []
    for sku_id in sorted(by_sku):
        level, types = by_sku[sku_id]
        expected += [(t, f"stock_level:{level.pk}") for t in types]
    expected.append(("reservation.created", f"reservation:{reservation.pk}"))
    assert [(e.type, e.aggregate) for e in written] == expected
    created = written[-1]
    assert created.sku_code == "" and created.reference == "ORDER-7"
    assert [line["sku_code"] for line in created.data["lines"]] == ["MUG-1", "CUP-1"]
    mug_changed = next(e for e in written if e.type == "stock.level.changed" and e.data["sku_code"] == "MUG-1")
    assert mug_changed.data == {
        "id": mug_level.pk,
        "sku_id": mug.pk,
        "sku_code": "MUG-1",
        "warehouse": "EAST",
        "on_hand": 5,
        "reserved": 5,
        "damaged": 0,
        "quality_control": 0,
        "safety_stock": 0,
        "incoming": 0,
        "backordered": 0,
        "sellable": 0,
        "available": 0,
        "low_stock_threshold": 3,
        "is_low": True,
        "version": mug_level.version,
        "cause": {"reservation_id": reservation.pk},
        "reason": None,
    }
    stored = Reservation.objects.get()
    assert created.data["expires_at"] == stored.expires_at.isoformat()[:23] + "Z"
    assert all(e.position is None for e in written)
    assert events_sequence().events >= len(written)
