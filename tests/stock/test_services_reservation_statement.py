"""reservation_place: the reservation as one PostgreSQL statement, all or nothing."""
import json

import pytest
from django.db import connection, transaction
from django.db.models import Max, Prefetch
from django.test.utils import CaptureQueriesContext

from events.models import Event
from events.services import events_sequence
from stock.events import emit_reserved
from stock.models import Reservation, ReservationLine, StockLevel
from stock.services import CodedLine, reservation_place, stock_receive
from tests.stock.factories import SKUFactory

pytestmark = [pytest.mark.django_db]


def place(*lines, reference="ORDER-1", ttl_seconds=900):
    return reservation_place(reference=reference, lines=list(lines), ttl_seconds=ttl_seconds)


def statements(captured) -> list[str]:
    """The captured SQL without the savepoint that the test's own transaction adds."""
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_one_line_is_one_statement_with_its_events(stocked, main):
    version = StockLevel.objects.get().version
    before = Event.objects.count()
    with CaptureQueriesContext(connection) as captured:
        reservation = place(CodedLine(stocked.sku_code.lower(), 3))
    sql = statements(captured)
    # The reservation, its lines and its outbox rows in one statement: no read-back, no second INSERT.
    assert len(sql) == 1 and sql[0].startswith("WITH request AS") and 'INSERT INTO events_event' in sql[0]
    assert list(Event.objects.order_by("id").values_list("type", flat=True)[before:]) == [
        "stock.level.changed", "reservation.created"]
    stored = Reservation.objects.get()
    assert reservation.pk == stored.pk and stored.status == "active" and stored.reference == "ORDER-1"
    assert abs((stored.expires_at - stored.created_at).total_seconds() - 900) < 1
    level = StockLevel.objects.get()
    assert (level.reserved, level.version) == (3, version + 1)
    [line] = reservation.lines.all()
    assert (line.pk, line.sku_id, line.sku.sku_code, line.warehouse.code, line.quantity) == (
        ReservationLine.objects.get().pk, stocked.pk, stocked.sku_code, "MAIN", 3)


def test_lines_in_request_order_with_named_warehouses(stocked, main, other):
    second = SKUFactory(sku_code="MUG-1")
    stock_receive(sku=second, quantity=5, warehouse=other)
    reservation = place(CodedLine("MUG-1", 5, "east"), CodedLine(stocked.sku_code, 10))
    assert [(ln.sku.sku_code, ln.warehouse.code, ln.quantity) for ln in reservation.lines.all()] == [
        ("MUG-1", "EAST", 5), (stocked.sku_code, "MAIN", 10)]
    assert sorted(StockLevel.objects.values_list("reserved", flat=True)) == [5, 10]


@pytest.mark.parametrize("lines", [
    [CodedLine("TSHIRT-RED-M", 11)],                                  # short
    [CodedLine("TSHIRT-RED-M", 1), CodedLine("TSHIRT-RED-M", 10)],    # two lines, one level: not as named
    [CodedLine("TSHIRT-RED-M", 1), CodedLine("NOPE", 1)],             # unknown code
    [CodedLine("TSHIRT-RED-M", 1, "NOPE")],                           # unknown warehouse
    [CodedLine("TSHIRT-RED-M", 2**31 - 1)],                           # more than int4 holds beside reserved
])
def test_not_every_line_placed_writes_nothing(stocked, main, lines):
    place(CodedLine("TSHIRT-RED-M", 1), reference="FIRST")
    assert place(*lines) is None
    assert StockLevel.objects.get().reserved == 1
    assert list(Reservation.objects.values_list("reference", flat=True)) == ["FIRST"]
    assert ReservationLine.objects.count() == 1


def test_deleted_sku_is_not_placed(stocked, main):
    stocked.is_deleted = True
    stocked.save()
    assert place(CodedLine(stocked.sku_code, 1)) is None
    assert not Reservation.objects.exists()


def test_refusal_inside_a_transaction_leaves_it_usable(stocked, main):
    with transaction.atomic():
        assert place(CodedLine(stocked.sku_code, 99)) is None
        assert place(CodedLine(stocked.sku_code, 4)) is not None
        assert not connection.needs_rollback
    assert StockLevel.objects.get().reserved == 4 and Reservation.objects.count() == 1


def _shape(events) -> list[tuple]:
    # The payload as JSON text too: 3 and 3.0 compare equal in Python, not in a client's eyes.
    return [(e.type, e.aggregate, e.data, json.dumps(e.data, sort_keys=True), e.sku_code, e.reference, e.position)
            for e in events]


def written_by_the_general_path(reservation_id: int) -> list[tuple]:
    """The events `emit_reserved` (the general path) writes for this reservation and its levels as
    they now are, in a savepoint rolled back afterwards."""

    class Undo(Exception):
        pass

    top = Event.objects.aggregate(top=Max("id"))["top"] or 0
    try:
        with transaction.atomic():
            stored = Reservation.objects.prefetch_related(
                Prefetch("lines", ReservationLine.objects.select_related("sku", "warehouse"))).get(pk=reservation_id)
            emit_reserved(stored, list(stored.lines.all()))
            written = _shape(Event.objects.filter(id__gt=top).order_by("id"))
            raise Undo
    except Undo:
        return written


@pytest.mark.parametrize("in_transaction", [False, True])
def test_the_statement_writes_the_events_the_general_path_writes(main, other, in_transaction):
    """Same types, aggregates, payloads, filter columns and id order: crossings of both levels
    (low, then out), two SKUs (so `reservation.created` has no sku_code), unsequenced."""
    mug, cup = SKUFactory(sku_code="MUG-1"), SKUFactory(sku_code="CUP-1")
    stock_receive(sku=mug, quantity=5, warehouse=other)
    stock_receive(sku=cup, quantity=8)
    StockLevel.objects.update(low_stock_threshold=3)
    top = Event.objects.aggregate(top=Max("id"))["top"] or 0
    with transaction.atomic() if in_transaction else CaptureQueriesContext(connection):
        reservation = place(CodedLine("mug-1", 5, "east"), CodedLine("CUP-1", 4), reference="ORDER-7")
    written = _shape(Event.objects.filter(id__gt=top).order_by("id"))
    assert written == written_by_the_general_path(reservation.pk)
    cup_level, mug_level = (StockLevel.objects.get(sku=s) for s in (cup, mug))
    first, second = sorted([(cup.pk, cup_level), (mug.pk, mug_level)], key=lambda pair: pair[0])
    assert [(t, a) for t, a, *_ in written] == [
        ("stock.level.changed", f"stock_level:{first[1].pk}"),
        *[(t, f"stock_level:{first[1].pk}") for t in (["stock.low", "stock.out"] if first[1] == mug_level else [])],
        ("stock.level.changed", f"stock_level:{second[1].pk}"),
        *[(t, f"stock_level:{second[1].pk}") for t in (["stock.low", "stock.out"] if second[1] == mug_level else [])],
        ("reservation.created", f"reservation:{reservation.pk}"),
    ]
    created = written[-1]
    assert created[4] == "" and created[5] == "ORDER-7" and [line["sku_code"] for line in created[2]["lines"]] == [
        "MUG-1", "CUP-1"]
    mug_changed = next(w for w in written if w[0] == "stock.level.changed" and w[2]["sku_code"] == "MUG-1")
    assert {k: mug_changed[2][k] for k in ("on_hand", "reserved", "available", "is_low", "warehouse", "cause")} == {
        "on_hand": 5, "reserved": 5, "available": 0, "is_low": True, "warehouse": "EAST",
        "cause": {"reservation_id": reservation.pk}}
    assert all(position is None for *_, position in written)
    assert events_sequence().events >= len(written)  # the sequencer numbers them like any event
    assert not Event.objects.filter(id__gt=top, position__isnull=True).exists()


def test_one_sku_on_the_reservation_event_and_nothing_written_on_refusal(stocked, main):
    top = Event.objects.aggregate(top=Max("id"))["top"] or 0
    assert place(CodedLine(stocked.sku_code, 11)) is None
    assert not Event.objects.filter(id__gt=top).exists()
    reservation = place(CodedLine(stocked.sku_code.lower(), 2))
    created = Event.objects.get(id__gt=top, type="reservation.created")
    assert created.sku_code == stocked.sku_code and created.data["lines"][0]["sku_code"] == stocked.sku_code
    assert _shape(Event.objects.filter(id__gt=top).order_by("id")) == written_by_the_general_path(reservation.pk)


def test_the_statement_is_prepared_once_and_keeps_a_generic_plan(stocked, main):
    """With DB_PREPARE_THRESHOLD (5) the statement is prepared on the connection, and PostgreSQL
    switches it to a generic plan instead of planning each reservation anew (README "Performance"):
    psycopg prepares it at its 5th run, PostgreSQL plans the first 5 runs of a prepared statement
    for their values, and then keeps the generic plan (as it did not for `unnest()` of arrays)."""
    stock_receive(sku=stocked, quantity=20)
    for n in range(15):
        assert place(CodedLine(stocked.sku_code, 1), reference=f"PREP-{n}") is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                       " WHERE statement LIKE 'WITH request AS%%'")
        plans = cursor.fetchall()
    assert len(plans) == 1, plans
    generic, custom = plans[0]
    assert (generic, custom) == (5, 5), plans
