"""The pull feed: cursor, filters, permission, ordering across late commits, retention."""

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from events.models import Event, format_event_id
from events.services import event_emit, events_purge_old, events_sequence
from events.tasks import purge, sweep
from stock.tasks import expire_reservations, purge_idempotency_keys


def _emit(n: int, *, type="stock.level.changed", sku_code="SKU-1", reference="", aggregate="stock_level:1"):
    with transaction.atomic():
        return [
            event_emit(type=type, aggregate=aggregate, data={"n": i}, sku_code=sku_code, reference=reference)
            for i in range(n)
        ]


def test_feed_pages_with_next_after_and_sees_every_event_once(api):
    _emit(5)
    first = api.get("/api/v1/events/?size=2").json()
    assert first["status"] == "success"
    assert [e["data"]["n"] for e in first["data"]] == [0, 1]
    assert first["meta"]["next_after"] == first["data"][-1]["id"]
    assert first["data"][0]["id"].startswith("evt_")
    assert first["data"][0]["created_at"].endswith("Z")
    second = api.get(f"/api/v1/events/?size=2&after={first['meta']['next_after']}").json()
    third = api.get(f"/api/v1/events/?size=2&after={second['meta']['next_after']}").json()
    assert [e["data"]["n"] for e in second["data"] + third["data"]] == [2, 3, 4]
    empty = api.get(f"/api/v1/events/?after={third['meta']['next_after']}").json()
    assert empty["data"] == []
    assert empty["meta"]["next_after"] == third["meta"]["next_after"]  # keep polling from there


def test_feed_filters_by_type_prefix_sku_code_and_reference(api):
    _emit(1, type="stock.level.changed", sku_code="A")
    _emit(1, type="stock.low", sku_code="B")
    _emit(1, type="catalog.sku.updated", sku_code="A", reference="ORDER-1")
    types = lambda q: [e["type"] for e in api.get(f"/api/v1/events/?{q}").json()["data"]]  # noqa: E731
    assert types("type=stock.*") == ["stock.level.changed", "stock.low"]
    assert types("type=stock.low,catalog.*") == ["stock.low", "catalog.sku.updated"]
    assert types("type=stock.low&type=catalog.sku.updated") == ["stock.low", "catalog.sku.updated"]
    assert types("sku_code=A") == ["stock.level.changed", "catalog.sku.updated"]
    assert types("reference=ORDER-1") == ["catalog.sku.updated"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("size=1001", "size"),
        ("size=0", "size"),
        ("size=x", "size"),
        ("after=123", "after"),
        ("after=evt_x", "after"),
        ("type=Stock!", "type"),
    ],
)
def test_feed_bad_query_is_400(api, query, field):
    response = api.get(f"/api/v1/events/?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["errors"]


def test_feed_needs_view_event(client_with_perms, anon):
    assert anon.get("/api/v1/events/").status_code == 401
    assert client_with_perms("catalog.view_sku").get("/api/v1/events/").status_code == 403
    assert client_with_perms("events.view_event").get("/api/v1/events/").status_code == 200


def test_pings_are_not_in_the_feed(api, allow_local_webhooks):
    subscription = api.post("/api/v1/webhooks/", {"url": "http://127.0.0.1:9/h", "events": ["*"]}, format="json")
    api.post(f"/api/v1/webhooks/{subscription.json()['data']['id']}/ping/")
    assert api.get("/api/v1/events/").json()["data"] == []


def test_retention_purges_events_older_than_the_setting(db, settings):
    settings.EVENT_RETENTION_DAYS = 30
    old, new = _emit(2)
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=31))
    assert events_purge_old() == 1
    assert list(Event.objects.values_list("pk", flat=True)) == [new.pk]


@pytest.mark.django_db(transaction=True)
def test_a_late_commit_of_an_earlier_id_is_not_skipped_by_a_poller(api):
    """Transaction A takes id 1 and commits after B (id 2): a poller that saw B still gets A."""
    a_inserted, b_committed = threading.Event(), threading.Event()

    def slow_writer():
        with transaction.atomic():
            event_emit(type="stock.low", aggregate="stock_level:1", data={"who": "A"})
            a_inserted.set()
            b_committed.wait(10)
        connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    a_inserted.wait(10)
    _emit(1, type="stock.out", aggregate="stock_level:2")
    first = api.get("/api/v1/events/").json()  # A is still open
    assert [e["type"] for e in first["data"]] == ["stock.out"]
    b_committed.set()
    thread.join(10)
    seen = [e["data"] for e in first["data"]]
    rest = api.get(f"/api/v1/events/?after={first['meta']['next_after']}").json()["data"]
    seen += [e["data"] for e in rest]
    assert sorted(d.get("who", "B") for d in seen) == ["A", "B"]


def test_rolled_back_work_emits_nothing(api):
    with pytest.raises(RuntimeError), transaction.atomic():
        event_emit(type="stock.low", aggregate="stock_level:1", data={})
        raise RuntimeError("the change failed")
    assert not Event.objects.exists()
    assert events_sequence().events == 0
    assert api.get("/api/v1/events/").json()["data"] == []


def test_event_ids_are_zero_padded_and_sort_as_text():
    assert format_event_id(42) == "evt_0000000000000000042"
    assert format_event_id(9) < format_event_id(10)


def test_the_scheduled_tasks_run_the_services(db, settings):
    """What beat runs: the event purge, reservation expiry and idempotency purge (called as the worker would)."""
    old, _ = _emit(2)
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=31))
    assert purge.run() == 1
    assert sweep.run() == 0  # numbers the remaining event; no subscription, nothing to deliver
    assert Event.objects.get().position is not None
    assert expire_reservations.run() == 0
    assert purge_idempotency_keys.run() == 0
