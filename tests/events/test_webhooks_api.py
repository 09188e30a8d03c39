"""Webhook subscriptions over the API: CRUD, the secret, URL refusal, permissions, the log."""

import pytest

from events.models import Event, WebhookDelivery, WebhookSubscription
from events.services import delivery_attempt, delivery_next_in_line, event_emit, events_sequence
from tests.events.receiver import Receiver

PUBLIC_URL = "https://93.184.215.14/hook"  # a public literal address: no DNS, and nothing is sent


def test_create_generates_a_secret_shown_once(api):
    response = api.post(
        "/api/v1/webhooks/",
        {"url": PUBLIC_URL, "events": ["stock.*", "catalog.sku.created"], "description": "ERP"},
        format="json",
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["secret"].startswith("whsec_")
    assert data["is_active"] is True and data["version"] == 1
    shown = api.get(f"/api/v1/webhooks/{data['id']}/").json()["data"]
    assert "secret" not in shown
    assert "secret" not in api.get("/api/v1/webhooks/").json()["data"][0]
    assert WebhookSubscription.objects.get().secret == data["secret"]


def test_a_given_secret_is_kept_and_a_bad_one_refused(api):
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    ok = api.post("/api/v1/webhooks/", {"url": PUBLIC_URL, "events": ["*"], "secret": secret}, format="json")
    assert ok.status_code == 201 and ok.json()["data"]["secret"] == secret
    bad = api.post("/api/v1/webhooks/", {"url": PUBLIC_URL, "events": ["*"], "secret": "hunter2"}, format="json")
    assert bad.status_code == 400 and "secret" in bad.json()["errors"]


@pytest.mark.parametrize("events", [[], ["Stock"], "stock.*", [1], ["stock.**"]])
def test_events_must_name_types_or_prefixes(api, events):
    response = api.post("/api/v1/webhooks/", {"url": PUBLIC_URL, "events": events}, format="json")
    assert response.status_code == 400
    assert "events" in response.json()["errors"]


@pytest.mark.parametrize(
    "events", [["no.such.event"], ["stock.*", "nosuch.*"], ["catalog.sku.renamed"], ["stock.level"]]
)
def test_a_type_or_prefix_that_matches_no_event_type_is_refused(api, events):
    """events.md: `events` lists types or prefixes of the catalogue; one that matches none is a
    400 validation_error on `events` naming it, and nothing is saved (it was a 201)."""
    response = api.post("/api/v1/webhooks/", {"url": PUBLIC_URL, "events": events}, format="json")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "validation_error"
    assert events[-1] in body["errors"]["events"][0]
    assert not WebhookSubscription.objects.exists()


def test_every_type_of_the_catalogue_and_its_prefixes_are_accepted(api):
    events = [
        "*",
        "stock.*",
        "catalog.*",
        "catalog.category.*",
        "reservation.*",
        "webhook.ping",
        "stock.level.changed",
        "stock.low",
        "stock.out",
        "stock.back_in_stock",
        "catalog.category.moved",
        "catalog.product.restored",
        "catalog.sku.deleted",
        "reservation.allocated",
        "reservation.expired",
    ]
    response = api.post("/api/v1/webhooks/", {"url": PUBLIC_URL, "events": events}, format="json")
    assert response.status_code == 201, response.json()
    url = f"/api/v1/webhooks/{response.json()['data']['id']}/"
    refused = api.patch(url, {"events": ["stock.*", "no.such.*"]}, format="json")
    assert refused.status_code == 400 and "no.such.*" in refused.json()["errors"]["events"][0]
    assert WebhookSubscription.objects.get().events == events


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hook",
        "https://127.0.0.1:{port}/hook",
        "https://localhost:{port}/",
        "https://10.0.0.8/",
        "https://192.168.1.1/",
        "https://172.16.0.1/",
        "https://169.254.169.254/latest",
        "https://[::1]:{port}/",
        "https://[fe80::1]/",
        "https://224.0.0.1/",
        "https://0.0.0.0:{port}/",
        "https://[::ffff:127.0.0.1]:{port}/",
        "ftp://93.184.215.14/",
        "https://user:pw@93.184.215.14/",
        "not a url",
        "https:///nohost",
    ],
)
def test_private_and_malformed_urls_are_refused_without_traffic(api, url):
    with Receiver() as receiver:  # listening, so any traffic would be seen
        response = api.post(
            "/api/v1/webhooks/", {"url": url.format(port=receiver.port), "events": ["*"]}, format="json"
        )
        assert response.status_code == 400, response.json()
        assert response.json()["code"] == "validation_error"
        assert "url" in response.json()["errors"]
        assert receiver.received == []
    assert not WebhookSubscription.objects.exists()


def test_private_urls_pass_only_with_the_settings(api, settings):
    body = {"url": "http://127.0.0.1:9/hook", "events": ["*"]}
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    assert "https" in str(api.post("/api/v1/webhooks/", body, format="json").json()["errors"]["url"])
    settings.WEBHOOK_ALLOW_HTTP = True
    assert api.post("/api/v1/webhooks/", body, format="json").status_code == 201
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    assert api.post("/api/v1/webhooks/", body, format="json").status_code == 400


def test_the_address_is_checked_again_at_delivery(api, settings):
    """Saved while allowed, then refused: the attempt records why and sends nothing."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = settings.WEBHOOK_ALLOW_HTTP = True
    with Receiver() as receiver:
        data = api.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["*"]}, format="json").json()["data"]
        api.post(f"/api/v1/webhooks/{data['id']}/ping/")
        [delivery_id] = events_sequence().delivery_ids
        settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
        assert delivery_attempt(delivery_id=delivery_id).outcome == "retry"
        delivery = WebhookDelivery.objects.get(pk=delivery_id)
        assert delivery.last_error.startswith("refused:")
        assert delivery.last_status_code is None
        assert receiver.received == []


def test_update_delete_and_version_conflicts(api):
    data = api.post("/api/v1/webhooks/", {"url": PUBLIC_URL, "events": ["*"]}, format="json").json()["data"]
    url = f"/api/v1/webhooks/{data['id']}/"
    changed = api.patch(url, {"events": ["stock.low"], "version": 1}, format="json")
    assert changed.status_code == 200 and changed.json()["data"]["events"] == ["stock.low"]
    assert changed.json()["data"]["version"] == 2
    stale = api.patch(url, {"description": "x", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    refused = api.patch(url, {"url": "https://10.1.1.1/"}, format="json")
    assert refused.status_code == 400
    assert WebhookSubscription.objects.get().url == PUBLIC_URL
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_permissions(client_with_perms):
    viewer = client_with_perms("events.view_webhooksubscription")
    assert viewer.get("/api/v1/webhooks/").status_code == 200
    assert viewer.post("/api/v1/webhooks/", {"url": PUBLIC_URL, "events": ["*"]}, format="json").status_code == 403
    adder = client_with_perms("events.add_webhooksubscription")
    assert adder.post("/api/v1/webhooks/", {"url": PUBLIC_URL, "events": ["*"]}, format="json").status_code == 201
    pk = WebhookSubscription.objects.get().pk
    assert viewer.post(f"/api/v1/webhooks/{pk}/ping/").status_code == 403
    assert viewer.post(f"/api/v1/webhooks/{pk}/rotate-secret/").status_code == 403


def test_ping_of_an_inactive_subscription_is_400(api):
    data = api.post(
        "/api/v1/webhooks/", {"url": PUBLIC_URL, "events": ["*"], "is_active": False}, format="json"
    ).json()["data"]
    response = api.post(f"/api/v1/webhooks/{data['id']}/ping/")
    assert response.status_code == 400
    assert not Event.objects.exists()


def test_delivery_log_filter_and_redeliver(api, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = settings.WEBHOOK_ALLOW_HTTP = True
    with Receiver() as receiver:
        data = api.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["*"]}, format="json").json()["data"]
        api.post(f"/api/v1/webhooks/{data['id']}/ping/")
        [delivery_id] = events_sequence().delivery_ids
        assert delivery_attempt(delivery_id=delivery_id).outcome == "delivered"
        log = f"/api/v1/webhooks/{data['id']}/deliveries/"
        assert [d["status"] for d in api.get(log).json()["data"]] == ["delivered"]
        assert api.get(log + "?status=pending").json()["data"] == []
        assert api.get(log + "?status=nope").status_code == 400
        again = api.post(f"{log}{delivery_id}/redeliver/")
        assert again.status_code == 202 and again.json()["data"]["status"] == "pending"
        assert delivery_attempt(delivery_id=delivery_id).outcome == "delivered"
        assert len(receiver.received) == 2
        assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
        assert api.post(f"{log}999999/redeliver/").status_code == 404


def test_deliveries_of_one_aggregate_wait_for_the_previous_one(api, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = settings.WEBHOOK_ALLOW_HTTP = True
    with Receiver() as receiver:
        api.post("/api/v1/webhooks/", {"url": receiver.url, "events": ["stock.*"]}, format="json")
        for n in range(2):
            event_emit(type="stock.level.changed", aggregate="stock_level:1", data={"n": n})
        event_emit(type="stock.level.changed", aggregate="stock_level:2", data={"n": 9})
        assert len(events_sequence().delivery_ids) == 2  # the second waits for the first
        first, second, other = WebhookDelivery.objects.order_by("aggregate", "position").values_list("pk", flat=True)
        receiver.behaviour.status = 500
        assert delivery_attempt(delivery_id=first).outcome == "retry"
        receiver.behaviour.status = 200
        assert delivery_attempt(delivery_id=second).outcome == "skipped"  # waits for the first
        assert delivery_attempt(delivery_id=other).outcome == "delivered"  # another aggregate does not wait
        WebhookDelivery.objects.filter(pk=first).update(
            next_attempt_at=WebhookDelivery.objects.get(pk=first).created_at
        )
        assert delivery_attempt(delivery_id=first).outcome == "delivered"
        assert delivery_next_in_line(delivery_id=first) == second
        assert delivery_attempt(delivery_id=second).outcome == "delivered"


def test_deleting_a_subscription_while_the_sequencer_fans_out_waits_for_it(transactional_db, allow_local_webhooks):
    """The sequencer's new deliveries for the subscription are deleted with it (no foreign key error)."""
    import threading

    from django.db import connection, transaction

    from events.services import webhook_create, webhook_delete

    subscription = webhook_create(url="https://93.184.215.14/hook", events=["stock.*"])
    event_emit(type="stock.level.changed", aggregate="stock_level:1", data={})
    fanned_out, release, deleted = threading.Event(), threading.Event(), threading.Event()

    def sequencer():
        try:
            with transaction.atomic():
                assert events_sequence().delivery_ids
                fanned_out.set()
                release.wait(10)
        finally:
            connection.close()

    def deleter():
        try:
            webhook_delete(subscription=subscription)
            deleted.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=sequencer)]
    threads[0].start()
    assert fanned_out.wait(10)
    threads.append(threading.Thread(target=deleter))
    threads[1].start()
    assert not deleted.wait(1)  # waits for the sequencer's commit ...
    release.set()
    for thread in threads:
        thread.join(15)
    assert deleted.is_set()  # ... then deletes the subscription and the new delivery
    assert not WebhookDelivery.objects.exists()


# Special-purpose addresses that `is_private` (and partly `is_global`) let through: a cloud
# metadata address in shared space, carrier-grade NAT, IETF protocol assignments, 6to4 and
# NAT64 forms of loopback/private IPv4, deprecated site-local, Teredo, documentation, ORCHID.
NOT_GLOBAL_URLS = [
    "https://100.100.100.200/",
    "https://100.64.0.1/",
    "https://192.0.0.9/",
    "https://192.0.0.170/",
    "https://198.18.0.1/",
    "https://192.88.99.1/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
    "https://[2002:7f00:1::1]/",
    "https://[2002:a00:1::1]/",
    "https://[fec0::1]/",
    "https://[64:ff9b::7f00:1]/",
    "https://[64:ff9b::a00:1]/",
    "https://[64:ff9b:1::1]/",
    "https://[2001::1]/",
    "https://[2001:db8::1]/",
    "https://[3fff::1]/",
    "https://[fd00::1]/",
    "https://[ff02::1]/",
    "https://[::]/",
    "https://[100::1]/",
    "https://[::127.0.0.1]/",
    "https://[5f00::1]/",
]


@pytest.mark.parametrize("url", NOT_GLOBAL_URLS)
def test_every_special_purpose_range_is_refused_at_save(api, url):
    response = api.post("/api/v1/webhooks/", {"url": url, "events": ["*"]}, format="json")
    assert response.status_code == 400, response.json()
    assert "url" in response.json()["errors"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("url", NOT_GLOBAL_URLS)
def test_every_special_purpose_range_is_refused_at_delivery(api, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    data = api.post("/api/v1/webhooks/", {"url": url, "events": ["*"]}, format="json").json()["data"]
    api.post(f"/api/v1/webhooks/{data['id']}/ping/")
    [delivery_id] = events_sequence().delivery_ids
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    assert delivery_attempt(delivery_id=delivery_id).outcome == "retry"
    assert WebhookDelivery.objects.get(pk=delivery_id).last_error.startswith("refused:")


@pytest.mark.parametrize(
    "url",
    [
        "https://93.184.215.14/",
        "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/",
        "https://[2002:5db8:d70e::1]/",
        "https://[64:ff9b::5db8:d70e]/",
    ],
)
def test_public_addresses_and_their_6to4_and_nat64_forms_pass(api, url):
    assert api.post("/api/v1/webhooks/", {"url": url, "events": ["*"]}, format="json").status_code == 201
