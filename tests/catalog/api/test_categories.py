"""Category endpoints: CRUD, tree, ancestors, descendants, move, filters, query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import services
from catalog.models import Category
from tests.catalog.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/categories/"


def detail(pk, suffix=""):
    return f"{URL}{pk}/{suffix}"


def queries_of(call) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = call()
    assert response.status_code == 200, response.json()
    return len(ctx.captured_queries)


def test_create_returns_envelope_and_computed_fields(api):
    root = CategoryFactory(name="Electronics")
    response = api.post(
        URL,
        {"name": "Phones", "parent_id": root.pk, "attributes": {"k": "v"}, "slug": "ignored", "unknown": 1},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "success" and body["message"] == "Category created" and body["meta"] is None
    data = body["data"]
    assert data["path"] == "Electronics/Phones" and data["slug"] == "phones" and data["level"] == 1
    assert data["parent_id"] == root.pk and data["product_count"] == 0 and data["version"] == 1
    assert data["is_deleted"] is False and data["deleted_at"] is None
    assert response["ETag"] == '"1"'


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "a\x07b"}, "name"),
        ({"name": "a/b"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "ok", "description": "d" * 501}, "description"),
        ({"name": "ok", "parent_id": True}, "parent_id"),
        ({"name": "ok", "parent_id": 1.5}, "parent_id"),
        ({"name": "ok", "parent_id": "1"}, "parent_id"),
        ({"name": "ok", "parent_id": 2**31}, "parent_id"),
        ({"name": "ok", "parent_id": 424242}, "parent_id"),
        ({"name": "ok", "attributes": [1]}, "attributes"),
        ({"name": "ok", "attributes": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}}, "attributes"),
        ({"name": "ok", "attributes": {"big": "x" * 17000}}, "attributes"),
        ({"name": 5}, "name"),
        ({}, "name"),
    ],
)
def test_create_validation(api, payload, field):
    response = api.post(URL, payload, format="json")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "validation_error" and field in body["errors"]
    assert not Category.all_objects.exists()


def test_attributes_at_the_limits_are_accepted(api):
    five_deep = {"a": {"b": {"c": {"d": {"e": 1}}}}}
    response = api.post(URL, {"name": "ok", "attributes": five_deep}, format="json")
    assert response.status_code == 201 and response.json()["data"]["attributes"] == five_deep


def test_duplicate_sibling_name_is_409(api):
    CategoryFactory(name="Books")
    response = api.post(URL, {"name": "BOOKS"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "duplicate"


def test_update_rename_and_reparent_paths_follow(api):
    a = CategoryFactory(name="A")
    b = CategoryFactory(name="B", parent=a)
    c = CategoryFactory(name="C", parent=b)
    x = CategoryFactory(name="X")
    response = api.patch(detail(b.pk), {"name": "Bee", "parent_id": x.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["path"] == "X/Bee" and response.json()["message"] == "Category updated"
    assert api.get(detail(c.pk)).json()["data"]["path"] == "X/Bee/C"


def test_put_replaces(api):
    c = CategoryFactory(name="Old", description="d")
    response = api.put(detail(c.pk), {"name": "New", "description": ""}, format="json")
    assert response.status_code == 200 and response.json()["data"]["description"] == ""
    assert api.put(detail(c.pk), {"description": "only"}, format="json").status_code == 400


def test_update_under_descendant_is_invalid_move(api):
    a = CategoryFactory(name="A")
    b = CategoryFactory(name="B", parent=a)
    response = api.patch(detail(a.pk), {"parent_id": b.pk}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_move"
    response = api.patch(detail(a.pk), {"parent_id": a.pk}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_move"


def test_version_conflict_and_if_match(api):
    c = CategoryFactory()
    response = api.patch(detail(c.pk), {"name": "n", "version": 5}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "version_conflict" and response.json()["errors"] == {"current_version": 1}
    response = api.patch(detail(c.pk), {"name": "n"}, format="json", HTTP_IF_MATCH='"3"')
    assert response.status_code == 412 and response.json()["code"] == "precondition_failed"
    assert Category.all_objects.get(pk=c.pk).version == 1
    response = api.patch(detail(c.pk), {"name": "n", "version": 1}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200 and response.json()["data"]["version"] == 2 and response["ETag"] == '"2"'
    response = api.patch(detail(c.pk), {"version": True}, format="json")
    assert response.status_code == 400


def test_soft_delete_restore_and_include_deleted(api):
    c = CategoryFactory()
    assert api.delete(detail(c.pk)).status_code == 204
    assert api.get(detail(c.pk)).status_code == 404
    assert api.get(URL).json()["meta"]["total"] == 0
    listed = api.get(URL + "?include_deleted=true").json()["data"]
    assert listed[0]["is_deleted"] is True and listed[0]["version"] == 2
    assert api.get(detail(c.pk) + "?include_deleted=true").status_code == 200
    response = api.post(detail(c.pk, "restore/"))
    assert response.status_code == 200 and response.json()["data"]["version"] == 3
    assert response.json()["message"] == "Category restored"
    assert api.post(detail(c.pk, "restore/")).status_code == 404


def test_delete_with_dependents_is_409(api):
    parent = CategoryFactory()
    CategoryFactory(parent=parent)
    response = api.delete(detail(parent.pk))
    assert response.status_code == 409 and response.json()["code"] == "has_dependents"


def test_restore_with_deleted_parent_is_409(api):
    parent = CategoryFactory()
    child = CategoryFactory(parent=parent)
    api.delete(detail(child.pk))
    api.delete(detail(parent.pk))
    response = api.post(detail(child.pk, "restore/"))
    assert response.status_code == 409 and response.json()["code"] == "parent_deleted"


def test_restore_duplicate_is_409(api):
    c = CategoryFactory(name="Same")
    api.delete(detail(c.pk))
    CategoryFactory(name="same")
    response = api.post(detail(c.pk, "restore/"))
    assert response.status_code == 409 and response.json()["code"] == "duplicate"


def test_force_delete_needs_purge_permission(client_with_perms, api):
    c = CategoryFactory()
    clerk = client_with_perms("catalog.delete_category", "catalog.view_category")
    assert clerk.delete(detail(c.pk) + "?force=true").status_code == 403
    purger = client_with_perms("catalog.delete_category", "catalog.purge_category")
    assert purger.delete(detail(c.pk) + "?force=true").status_code == 204
    assert not Category.all_objects.exists()


def test_force_delete_with_deleted_children_is_409(api):
    parent = CategoryFactory()
    child = CategoryFactory(parent=parent)
    api.delete(detail(child.pk))
    response = api.delete(detail(parent.pk) + "?force=true")
    assert response.status_code == 409 and response.json()["code"] == "has_dependents"


def test_filters_parent_level_search_and_ordering(api):
    a = CategoryFactory(name="Alpha")
    b = CategoryFactory(name="Beta")
    CategoryFactory(name="Alpine", parent=b)
    names = lambda q: [c["name"] for c in api.get(URL + q).json()["data"]]  # noqa: E731
    assert names("?parent_id=null") == ["Alpha", "Beta"]
    assert names(f"?parent_id={b.pk}") == ["Alpine"]
    assert names("?level=1") == ["Alpine"]
    assert names("?search=alp") == ["Alpha", "Alpine"]
    assert names("?ordering=-name") == ["Beta", "Alpine", "Alpha"]
    assert names("?ordering=tree") == ["Alpha", "Beta", "Alpine"]
    assert names(f"?parent_id={a.pk}") == []
    for bad in (
        "?parent_id=abc",
        "?parent_id=1.5",
        "?level=-1",
        "?include_deleted=maybe",
        "?ordering=secret",
        f"?parent_id={2**31}",
    ):
        response = api.get(URL + bad)
        assert response.status_code == 400 and response.json()["code"] == "validation_error", bad


def test_product_count_counts_active_products_in_subtree(api):
    root = CategoryFactory(name="Root")
    child = CategoryFactory(name="Child", parent=root)
    ProductFactory(category=root)
    ProductFactory(category=child)
    gone = ProductFactory(category=child)
    services.product_soft_delete(product_id=gone.pk)
    counts = {c["name"]: c["product_count"] for c in api.get(URL).json()["data"]}
    assert counts == {"Root": 2, "Child": 1}


def test_ancestors_and_descendants(api):
    a = CategoryFactory(name="A")
    b = CategoryFactory(name="B", parent=a)
    c = CategoryFactory(name="C", parent=b)
    d = CategoryFactory(name="D", parent=a)
    response = api.get(detail(c.pk, "ancestors/"))
    assert [x["name"] for x in response.json()["data"]] == ["A", "B"]
    response = api.get(detail(a.pk, "descendants/") + "?size=2")
    body = response.json()
    assert [x["name"] for x in body["data"]] == ["B", "C"]
    assert body["meta"] == {"page": 1, "size": 2, "total": 3, "pages": 2}
    api.delete(detail(d.pk))
    assert api.get(detail(a.pk, "descendants/")).json()["meta"]["total"] == 2
    assert api.get(detail(999999, "ancestors/")).status_code == 404


def test_tree_nested_with_counts_root_and_depth(api):
    a = CategoryFactory(name="A")
    b = CategoryFactory(name="B", parent=a)
    c = CategoryFactory(name="C", parent=b)
    CategoryFactory(name="Z")
    ProductFactory(category=c)
    data = api.get(URL + "tree/").json()["data"]
    assert [n["name"] for n in data] == ["A", "Z"]
    assert data[0]["product_count"] == 1
    assert data[0]["children"][0]["children"][0]["name"] == "C"
    assert data[0]["children"][0]["children"][0]["children"] == []
    data = api.get(URL + f"tree/?root_id={b.pk}").json()["data"]
    assert [n["name"] for n in data] == ["B"] and data[0]["children"][0]["name"] == "C"
    data = api.get(URL + "tree/?max_depth=0").json()["data"]
    assert [n["children"] for n in data] == [[], []] and data[0]["product_count"] == 1
    data = api.get(URL + f"tree/?root_id={a.pk}&max_depth=1").json()["data"]
    assert data[0]["children"][0]["children"] == [] and data[0]["children"][0]["product_count"] == 1
    assert api.get(URL + "tree/?root_id=999999").status_code == 404
    assert api.get(URL + "tree/?max_depth=x").status_code == 400


def test_move_endpoint(api):
    root = CategoryFactory(name="Root")
    a, b = CategoryFactory(name="A", parent=root), CategoryFactory(name="B", parent=root)
    response = api.post(detail(b.pk, "move/"), {"target_id": a.pk, "position": "left"}, format="json")
    assert response.status_code == 200 and response.json()["data"]["version"] == 2
    assert [c["name"] for c in api.get(URL + f"?parent_id={root.pk}").json()["data"]] == ["B", "A"]
    response = api.post(detail(root.pk, "move/"), {"target_id": a.pk, "position": "first-child"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_move"
    response = api.post(detail(a.pk, "move/"), {"target_id": root.pk, "position": "middle"}, format="json")
    assert response.status_code == 400 and "position" in response.json()["errors"]
    response = api.post(detail(a.pk, "move/"), {"target_id": "x"}, format="json")
    assert response.status_code == 400 and "target_id" in response.json()["errors"]


def test_move_and_restore_need_change_permission(client_with_perms):
    a, b = CategoryFactory(name="A"), CategoryFactory(name="B")
    viewer = client_with_perms("catalog.view_category")
    assert viewer.post(detail(a.pk, "move/"), {"target_id": b.pk}, format="json").status_code == 403
    assert viewer.post(detail(a.pk, "restore/")).status_code == 403
    changer = client_with_perms("catalog.change_category")
    assert changer.post(detail(a.pk, "move/"), {"target_id": b.pk}, format="json").status_code == 200


def test_list_queries_do_not_grow_with_page_size(api):
    root = CategoryFactory(name="Root")
    for i in range(30):
        ProductFactory(category=CategoryFactory(name=f"C{i:02d}", parent=root))
    small = queries_of(lambda: api.get(URL + "?size=2"))
    large = queries_of(lambda: api.get(URL + "?size=30"))
    assert small == large <= 3
    assert queries_of(lambda: api.get(detail(root.pk, "descendants/") + "?size=30")) == small + 1


def test_tree_queries_constant_in_tree_size(api):
    def build(n):
        parent = None
        for i in range(n):
            parent = CategoryFactory(name=f"N{n}-{i}", parent=parent if i % 3 else None)
            ProductFactory(category=parent)

    build(3)
    few = queries_of(lambda: api.get(URL + "tree/"))
    build(40)
    many = queries_of(lambda: api.get(URL + "tree/"))
    assert few == many <= 3  # token lookup, nodes, product counts
    root_id = Category.objects.filter(level=0).first().pk
    assert queries_of(lambda: api.get(URL + f"tree/?root_id={root_id}&max_depth=2")) <= 4


def test_unpaginated_lists_have_the_page_meta_of_one_page_holding_everything(api):
    """Every list's `meta` carries `page`, `size`, `total`, `pages` (api.md, "Success, a list"): an
    unpaginated list (ancestors, the tree) is one page holding every row; it was `{"total": n}`."""
    a = CategoryFactory(name="A")
    b = CategoryFactory(name="B", parent=a)
    c = CategoryFactory(name="C", parent=b)
    CategoryFactory(name="Z")
    body = api.get(detail(c.pk, "ancestors/")).json()
    assert [row["name"] for row in body["data"]] == ["A", "B"]
    assert body["meta"] == {"page": 1, "size": 2, "total": 2, "pages": 1}
    assert api.get(detail(a.pk, "ancestors/")).json()["meta"] == {"page": 1, "size": 0, "total": 0, "pages": 0}
    assert api.get(URL + "tree/").json()["meta"] == {"page": 1, "size": 2, "total": 2, "pages": 1}  # the top nodes
