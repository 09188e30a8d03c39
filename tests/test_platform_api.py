"""API conventions every endpoint shares, exercised through the catalog endpoints:
envelope, pagination, auth, errors, strict JSON, ETag/If-Match, versions and rate limits."""

import json

import pytest
from rest_framework.test import APIClient

from catalog import selectors
from catalog.models import Category
from tests.catalog.factories import CategoryFactory, SKUFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/categories/"
ERROR_KEYS = {"status", "data", "message", "code", "errors"}


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS and body["status"] == "error" and body["data"] is None
    assert body["code"] == code and body["message"]
    return body


def test_list_envelope_and_meta(api):
    for i in range(5):
        CategoryFactory(name=f"C{i}")
    body = api.get(URL + "?size=2&page=2").json()
    assert body["status"] == "success" and body["message"] == "OK"
    assert body["meta"] == {"page": 2, "size": 2, "total": 5, "pages": 3}
    assert [c["name"] for c in body["data"]] == ["C2", "C3"]


def test_page_past_the_end_is_empty_with_true_total(api):
    CategoryFactory()
    body = api.get(URL + "?page=9").json()
    assert body["data"] == [] and body["meta"] == {"page": 9, "size": 20, "total": 1, "pages": 1}


def test_empty_list_has_zero_pages(api):
    assert api.get(URL).json()["meta"] == {"page": 1, "size": 20, "total": 0, "pages": 0}


@pytest.mark.parametrize(
    "query",
    [
        "size=0",
        "size=101",
        "size=-1",
        "page=0",
        "page=abc",
        "size=1.5",
        f"page={2**40}",
        "page=%C2%B2",
        "size=%EF%BC%92",
    ],
)
def test_bad_pagination_is_400(api, query):
    body = assert_error(api.get(f"{URL}?{query}"), 400, "validation_error")
    assert set(body["errors"]) <= {"page", "size"}


@pytest.mark.parametrize("header", [None, "Token", "Token nope", "Bearer abc", "Token a b"])
def test_unauthenticated_is_401_with_www_authenticate(header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(URL)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_missing_permission_is_403(client_with_perms):
    client = client_with_perms("catalog.view_product")
    assert_error(client.get(URL), 403, "permission_denied")
    assert_error(client.post(URL, {"name": "x"}, format="json"), 403, "permission_denied")
    assert client_with_perms("catalog.view_category").get(URL).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        URL + "abc/",
        URL + "1.5/",
        URL + "-1/",
        URL + "9" * 19 + "/",
        URL + "424242/",
        "/api/v1/skus/x/restore/",
        "/api/v1/nothing/",
    ],
)
def test_not_found_is_enveloped(api, path):
    assert_error(api.get(path), 404, "not_found")


def test_method_not_allowed_is_405(api):
    assert_error(api.put(URL, {"name": "x"}, format="json"), 405, "method_not_allowed")
    assert_error(api.delete(URL + "tree/"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/x-www-form-urlencoded", "name=x"),
        ("multipart/form-data; boundary=xx", "--xx--"),
        ("text/plain", '{"name": "x"}'),
        ("application/xml", "<name>x</name>"),
    ],
)
def test_other_content_types_are_415(api, content_type, body):
    assert_error(api.generic("POST", URL, body, content_type=content_type), 415, "unsupported_media_type")
    assert not Category.all_objects.exists()


def test_body_over_2_mib_is_413(api):
    body = json.dumps({"name": "x", "description": "d" * (2 * 1024 * 1024)})
    assert_error(api.generic("POST", URL, body, content_type="application/json"), 413, "payload_too_large")


@pytest.mark.parametrize(
    "body", ['{"name": ', "{'name': 'x'}", "[" * 100000 + "]" * 100000, '{"name": NaN}', b'{"name": "\xff\xfe"}']
)
def test_malformed_or_too_deep_json_is_parse_error(api, body):
    assert_error(api.generic("POST", URL, body, content_type="application/json"), 400, "parse_error")


@pytest.mark.parametrize("body", ["null", "[]", '"name"', "42", '[{"name": "x"}]'])
def test_body_not_an_object_is_400(api, body):
    assert_error(api.generic("POST", URL, body, content_type="application/json"), 400, "validation_error")
    category = CategoryFactory()
    assert_error(
        api.generic("PATCH", f"{URL}{category.pk}/", body, content_type="application/json"), 400, "validation_error"
    )


def test_lone_surrogate_is_refused_not_500(api):
    response = api.generic("POST", URL, '{"name": "bad \\ud800 name"}', content_type="application/json")
    assert response.status_code == 400
    assert not Category.all_objects.exists()


def test_etag_if_match_and_version(api):
    category = CategoryFactory()
    url = f"{URL}{category.pk}/"
    response = api.get(url)
    assert response["ETag"] == '"1"'
    assert_error(api.patch(url, {"name": "x"}, format="json", HTTP_IF_MATCH='"2"'), 412, "precondition_failed")
    assert_error(api.patch(url, {"name": "x"}, format="json", HTTP_IF_MATCH="garbage"), 412, "precondition_failed")
    body = assert_error(api.patch(url, {"name": "x", "version": 9}, format="json"), 409, "version_conflict")
    assert body["errors"] == {"current_version": 1}
    assert_error(api.delete(url, HTTP_IF_MATCH='"7"'), 412, "precondition_failed")
    response = api.patch(url, {"name": "x"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200 and response["ETag"] == '"2"'
    assert api.patch(url, {"name": "y"}, format="json").status_code == 200  # no precondition: last write wins


def test_throttled_is_429_with_retry_after(api, settings):
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 2
    assert api.get(URL).status_code == 200
    assert api.get(URL).status_code == 200
    response = api.get(URL)
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_throttle_off_with_zero(api, settings):
    settings.RATE_LIMIT_REQUESTS_PER_MINUTE = 0
    for _ in range(5):
        assert api.get(URL).status_code == 200


def test_unhandled_error_is_500_without_details(api, monkeypatch):
    def boom():
        raise RuntimeError("SELECT secret FROM passwords")

    monkeypatch.setattr(selectors, "category_tree", lambda **kw: boom())
    response = api.get(URL + "tree/")
    body = assert_error(response, 500, "server_error")
    assert "secret" not in response.content.decode() and body["errors"] is None


def test_decimals_serialize_as_strings(api):
    sku = SKUFactory(price="19.9")
    assert api.get(f"/api/v1/skus/{sku.pk}/").json()["data"]["price"] == "19.90"


def test_unknown_and_read_only_fields_are_ignored(api):
    response = api.post(
        URL,
        {"name": "x", "id": 999, "version": 50, "path": "p", "level": 4, "is_deleted": True, "whatever": [1, 2]},
        format="json",
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["id"] != 999 and data["version"] == 1 and data["path"] == "x" and data["level"] == 0
    assert data["is_deleted"] is False


def test_json_renderer_writes_what_drf_writes_and_falls_back_for_what_orjson_cannot():
    import datetime
    import decimal

    from rest_framework.renderers import JSONRenderer

    from inventory_site.api.renderers import EnvelopeJSONRenderer

    body = {
        "text": "x\u2028y é",
        "at": datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC),
        "price": decimal.Decimal("1.50"),
        0: [1, None, True],
        "huge": 2**70,
        "deep": [[[[1]]]],
    }
    assert EnvelopeJSONRenderer().render(body) == JSONRenderer().render(body)
    del body["huge"]
    assert EnvelopeJSONRenderer().render(body) == JSONRenderer().render(body)
