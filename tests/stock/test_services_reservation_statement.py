"""reservation_place: the reservation as one PostgreSQL statement, all or nothing."""
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from events.models import Event
from stock.models import Reservation, ReservationLine, StockLevel
from stock.services import CodedLine, reservation_place, stock_receive
from tests.stock.factories import SKUFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def place(*lines, reference="ORDER-1", ttl_seconds=900):
    return reservation_place(reference=reference, lines=list(lines), ttl_seconds=ttl_seconds)


def statements(captured) -> list[str]:
    """The captured SQL without the savepoint that the test's own transaction adds."""
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_one_line_is_one_statement_then_its_events(stocked, main):
    version = StockLevel.objects.get().version
    before = Event.objects.count()
    with CaptureQueriesContext(connection) as captured:
        reservation = place(CodedLine(stocked.sku_code.lower(), 3))
    sql = statements(captured)
    # The reservation in one statement; then, in its transaction, the levels read back and the outbox rows.
    assert len(sql) == 3 and sql[0].startswith("WITH request AS") and sql[2].startswith('INSERT INTO "events_event"')
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
