"""Faults with a real worker process and a real receiver: nothing committed is lost.

While events are written (and some transactions roll back), the receiver answers 503,
then refuses connections, then is slow; the worker is SIGKILLed mid-delivery and
restarted; the worker's database connection is cut (through a TCP proxy, so the shared
PostgreSQL server itself is not restarted). Afterwards every committed event arrived at
least once, none from rolled-back work, and per aggregate in order.
"""

import json
import threading
import time
from collections import defaultdict

import pytest
from django.db import connection, transaction

from events.models import Event, WebhookDelivery
from events.services import event_emit, webhook_create
from tests.events.receiver import wait_for
from tests.events.worker import Worker, purge_broker
from tests.reliability.server import TcpProxy

pytestmark = [pytest.mark.slow]

AGGREGATES = 8
EVENTS_PER_AGGREGATE = 40
# The writes span every fault below: a drain sends a backlog of 320 in well under a second.
WRITE_PAUSE = 0.08
COUNTS: dict[str, int] = {}


def _write_events(rolled_back: list[str], done: threading.Event) -> None:
    """Commit EVENTS_PER_AGGREGATE events for each aggregate, interleaved; every 7th write rolls back."""
    try:
        for n in range(EVENTS_PER_AGGREGATE):
            for a in range(AGGREGATES):
                with transaction.atomic():
                    event_emit(type="stock.level.changed", aggregate=f"stock_level:{a}", data={"a": a, "n": n})
                if (n * AGGREGATES + a) % 7 == 0:
                    marker = f"rb-{a}-{n}"
                    try:
                        with transaction.atomic():
                            event_emit(
                                type="stock.level.changed",
                                aggregate=f"stock_level:{a}",
                                data={"a": a, "n": n, "rolled_back": marker},
                            )
                            raise RuntimeError("the change failed")
                    except RuntimeError:
                        rolled_back.append(marker)
                time.sleep(WRITE_PAUSE)
    finally:
        connection.close()
        done.set()


def test_every_committed_event_arrives_in_order_through_faults(transactional_db, allow_local_webhooks, receiver):
    subscription = webhook_create(url=receiver.url, events=["stock.*"])
    purge_broker()
    proxy = TcpProxy()
    proxy.start()
    db = connection.settings_dict
    worker_db = f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}"
    env = {"WEBHOOK_BACKOFF_SCALE": "0.02", "DB_CONNECT_TIMEOUT": "2"}
    worker = Worker(database_url=worker_db, **env).start()
    rolled_back: list[str] = []
    done = threading.Event()
    writer = threading.Thread(target=_write_events, args=(rolled_back, done))
    faults = defaultdict(int)
    try:
        writer.start()
        wait_for(lambda: len(receiver.received) >= 20, timeout=60)
        receiver.behaviour.status = 503
        time.sleep(2)
        faults["5xx window"] += 1
        receiver.behaviour.status = 200
        receiver.down()
        time.sleep(2)
        faults["receiver down"] += 1
        receiver.behaviour.delay = 0.5
        receiver.up()
        wait_for(lambda: receiver.in_flight > 0, timeout=30, interval=0.01)
        worker.kill()  # mid-delivery: a request is being answered right now
        faults["worker SIGKILL"] += 1
        receiver.behaviour.delay = 0
        before_restart = receiver.requests
        worker = Worker(database_url=worker_db, **env).start()
        wait_for(lambda: receiver.requests > before_restart + 10, timeout=60)
        proxy.cut()
        time.sleep(3)
        proxy.restore()
        faults["database cut"] += 1
        done.wait(120)
        committed = EVENTS_PER_AGGREGATE * AGGREGATES
        assert Event.objects.count() == committed
        wait_for(
            lambda: (
                not WebhookDelivery.objects.exclude(status="delivered").exists()
                and WebhookDelivery.objects.count() == committed
            ),
            timeout=180,
            interval=0.5,
        )
    finally:
        worker.stop()
        proxy.close()
        writer.join(30)
        purge_broker()

    arrivals = [json.loads(body) for body in receiver.bodies()]
    ids = [a["id"] for a in arrivals]
    expected = set(Event.objects.values_list("pk", flat=True))
    assert {int(i.removeprefix("evt_")) for i in ids} == expected  # every committed event, no other
    assert not any("rolled_back" in a["data"] for a in arrivals)
    per_aggregate = defaultdict(list)
    for a in arrivals:
        per_aggregate[a["data"]["a"]].append(a["data"]["n"])
    for sequence in per_aggregate.values():
        assert sequence == sorted(sequence)  # duplicates only repeat the latest, never go back
        assert sorted(set(sequence)) == list(range(EVENTS_PER_AGGREGATE))
    assert WebhookDelivery.objects.filter(subscription=subscription, attempts__gt=1).exists()
    COUNTS.update(
        committed=committed,
        rolled_back=len(rolled_back),
        arrivals=len(arrivals),
        duplicates=len(ids) - len(set(ids)),
        requests=receiver.requests,
        retried=WebhookDelivery.objects.filter(attempts__gt=1).count(),
        **faults,
    )
    print(f"\nevents faults: {COUNTS}")
