"""Valid request bodies per write endpoint, and the ids a detail URL points at, over the
`World` data set; suites replace one field of a valid body at a time."""

import re

WEBHOOK_URL = "https://127.0.0.1:9/inventory"  # port 9 (discard): never contacted by these suites


def allow_local_webhooks(settings) -> None:
    """Let the webhook bodies above be saved: their host is a loopback IP literal."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


def base_bodies(w) -> list[tuple[str, str, callable]]:
    """A valid body per (method, path pattern): hostile values replace one field at a time."""
    adjustment = lambda n: {  # noqa: E731
        "sku_code": w.sku.sku_code,
        "warehouse": "MAIN",
        "delta": 2,
        "reason": "correction",
        "reference": f"ADJ-{n}",
        "note": "restock",
    }
    return [
        (
            "POST",
            r"categories/$",
            lambda n: {"name": f"Cat {n}", "parent_id": w.root.id, "description": "d", "attributes": {"k": 1}},
        ),
        (
            "PUT|PATCH",
            r"categories/\d+/$",
            lambda n: {"name": f"Shirts {n}", "parent_id": w.root.id, "description": "", "attributes": {}},
        ),
        ("POST", r"categories/\d+/move/$", lambda n: {"target_id": w.spare.id, "position": "left"}),
        (
            "POST",
            r"products/$",
            lambda n: {"name": f"Prod {n}", "category_id": w.leaf.id, "description": "", "attributes": {"k": "v"}},
        ),
        (
            "PUT|PATCH",
            r"products/\d+/$",
            lambda n: {"name": f"Tee {n}", "category_id": w.leaf.id, "description": "", "attributes": {}},
        ),
        (
            "POST",
            r"skus/$",
            lambda n: {
                "sku_code": f"HOSTILE-{n}",
                "product_id": w.product.id,
                "price": "9.99",
                "attributes": {"size": "M"},
                "inventory_count": 3,
            },
        ),
        (
            "PUT|PATCH",
            r"skus/\d+/$",
            lambda n: {"sku_code": w.sku.sku_code, "product_id": w.product.id, "price": "18.50", "attributes": {}},
        ),
        (
            "POST",
            r"warehouses/$",
            lambda n: {"code": f"WH{n}", "name": f"Warehouse {n}", "is_active": True, "is_default": False},
        ),
        (
            "PUT|PATCH",
            r"warehouses/\d+/$",
            lambda n: {
                "code": w.west.code,
                "name": f"West {n}",
                "is_active": True,
                "is_default": False,
                "priority": 50,
            },
        ),
        (
            "PUT|PATCH",
            r"stock/levels/\d+/$",
            lambda n: {"low_stock_threshold": 5, "safety_stock": 1, "reorder_point": 3, "reorder_quantity": 10},
        ),
        ("POST", r"stock/adjustments/$", adjustment),
        ("POST", r"stock/adjustments/bulk/$", lambda n: {"lines": [adjustment(n)]}),
        (
            "POST",
            r"stock/state-moves/$",
            lambda n: {
                "sku_code": w.sku.sku_code,
                "warehouse": "MAIN",
                "quantity": 1,
                "from": "sellable",
                "to": "damaged",
                "reason": "damage",
                "reference": f"DMG-{n}",
                "note": "dropped",
            },
        ),
        (
            "POST",
            r"stock/transfers/$",
            lambda n: {
                "sku_code": w.sku.sku_code,
                "from_warehouse": "MAIN",
                "to_warehouse": "WEST",
                "quantity": 1,
                "reference": f"T-{n}",
            },
        ),
        (
            "POST",
            r"stock/reservations/$",
            lambda n: {
                "reference": f"ORDER-H{n}",
                "ttl_seconds": 900,
                "lines": [{"sku_code": w.sku.sku_code, "quantity": 1, "warehouse": "MAIN"}],
            },
        ),
        (
            "POST",
            r"stock/inbound/$",
            lambda n: {
                "reference": f"PO-H{n}",
                "supplier": "Acme",
                "warehouse": "MAIN",
                "expected_at": "2027-01-01T00:00:00Z",
                "note": "",
                "lines": [{"sku_code": w.sku.sku_code, "quantity_expected": 5}],
            },
        ),
        (
            "PUT|PATCH",
            r"stock/inbound/\d+/$",
            lambda n: {
                "reference": f"PO-E{n}",
                "supplier": "Acme",
                "warehouse": "MAIN",
                "note": "edited",
                "lines": [{"sku_code": w.sku.sku_code, "quantity_expected": 4}],
            },
        ),
        (
            "POST",
            r"stock/inbound/\d+/receive/$",
            lambda n: {
                "lines": [{"sku_code": w.sku.sku_code, "quantity": 1, "state": "sellable"}],
                "allow_over_receipt": False,
                "note": "",
            },
        ),
        (
            "POST",
            r"stock/reorder-suggestions/create-drafts/$",
            lambda n: {"supplier": "Acme", "warehouse": "MAIN", "level_ids": [w.level.pk], "reference": f"RO-H{n}"},
        ),
        # An IP literal: saving checks the URL without a DNS look-up (needs WEBHOOK_ALLOW_PRIVATE_URLS,
        # see `allow_local_webhooks`); nothing is ever sent to it.
        (
            "POST",
            r"webhooks/$",
            lambda n: {
                "url": f"{WEBHOOK_URL}/{n}",
                "events": ["stock.*", "reservation.created"],
                "description": f"Hook {n}",
                "is_active": True,
            },
        ),
        (
            "PUT|PATCH",
            r"webhooks/\d+/$",
            lambda n: {
                "url": f"{WEBHOOK_URL}/{n}",
                "events": ["stock.*"],
                "description": f"ERP {n}",
                "is_active": True,
            },
        ),
    ]


def base_body_for(method: str, path: str, w):
    for methods, pattern, make in base_bodies(w):
        if method in methods.split("|") and re.search(r"/api/v1/" + pattern, path):
            return make
    return None


def url_kwargs(route, w) -> dict:
    model = route.model
    obj = w.live_object(model) if model is not None else None
    special = {"delivery_id": w.delivery.pk}
    return {name: special.get(name, obj.pk if obj is not None else 1) for name in route.kwargs}
