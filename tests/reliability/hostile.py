"""The table of hostile inputs: for a field (by its OpenAPI schema) the values to try, and
whether the API must refuse each one (`REJECT`) or may take it as plain data (`MAY_ACCEPT`)."""

import json
from dataclasses import dataclass
from typing import Any

REJECT = "reject"
MAY_ACCEPT = "may_accept"

MB_STRING = "x" * (1024 * 1024)
SQL_INJECTION = "x'); DROP TABLE catalog_sku; --"
HTML_INJECTION = "<script>alert('x')</script><img src=x onerror=alert(1)>"
# Quantities, thresholds, ids and TTLs that can never be negative (the API contract).
NON_NEGATIVE = {
    "quantity",
    "ttl_seconds",
    "low_stock_threshold",
    "inventory_count",
    "expected_on_hand",
    "version",
    "target_id",
    "parent_id",
    "category_id",
    "product_id",
    "sku_id",
    "price",
}
# Fields whose value must be a non-blank name or code.
NAME_LIKE = {"name", "sku_code", "code", "reference_required"}
ID_FIELDS = {"parent_id", "category_id", "product_id", "sku_id", "target_id", "warehouse_id"}


def nested(depth: int) -> dict:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


DEEP_50 = nested(50)


@dataclass(frozen=True)
class Hostile:
    """One value to put into one field, with what the API must do with it."""

    kind: str
    value: Any
    expect: str  # REJECT or MAY_ACCEPT
    raw: str | None = None  # replaces the JSON-encoded value in the body text (NaN, Infinity)


def _type_of(prop: dict) -> str:
    if "enum" in prop:
        return "enum"
    if prop.get("type") == "string" and prop.get("format") == "decimal":
        return "decimal"
    if "oneOf" in prop or "anyOf" in prop:
        options = [
            o
            for o in prop.get("oneOf", prop.get("anyOf", []))
            if o.get("type") != "null" and "enum" not in o or o.get("enum") not in ([None], [""])
        ]
        return _type_of(options[0]) if options else "any"
    return prop.get("type", "any")


def _nullable(prop: dict) -> bool:
    if prop.get("nullable"):
        return True
    return any(
        o.get("type") == "null" or o.get("enum") == [None] for o in prop.get("oneOf", []) + prop.get("anyOf", [])
    )


def values_for(
    name: str, prop: dict, *, deleted_ids: dict[str, int], deleted_codes: dict[str, str], own_code: bool = False
) -> list[Hostile]:
    """The hostile values for field `name` described by the JSON schema `prop`."""
    kind = _type_of(prop)
    out: list[Hostile] = [
        Hostile("deep_json_50", DEEP_50, REJECT),
        Hostile("mb_string", MB_STRING, REJECT),
        Hostile("nan_literal", None, REJECT, raw="NaN"),
        Hostile("infinity_literal", None, REJECT, raw="-Infinity"),
    ]
    out.append(Hostile("null", None, MAY_ACCEPT if _nullable(prop) else REJECT))
    if kind in ("integer", "number", "decimal"):
        out += [
            Hostile("huge_10e30", 10**30, REJECT),
            Hostile("huge_negative", -(10**30), REJECT),
            Hostile("int32_overflow", 2**31, REJECT),
            Hostile("bool", True, REJECT),
            Hostile("string", "twelve", REJECT),
            Hostile("object", {"a": 1}, REJECT),
            Hostile("list", [1], REJECT),
            Hostile("string_nan", "NaN", REJECT),
            Hostile("string_inf", "Infinity", REJECT),
            Hostile("negative", -1, REJECT if name in NON_NEGATIVE or prop.get("minimum", -1) >= 0 else MAY_ACCEPT),
        ]
        if kind == "integer":
            out.append(Hostile("fraction", 1.5, REJECT))
        if kind == "decimal":
            out += [
                Hostile("three_places", "1.005", REJECT),
                Hostile("over_max", "100000000.00", REJECT),
                Hostile("sql", SQL_INJECTION, REJECT),
            ]
    elif kind in ("string", "enum"):
        out += [
            Hostile("object", {"a": 1}, REJECT),
            Hostile("list", ["a"], REJECT),
            Hostile("bool", True, REJECT),
            Hostile("number", 12345, REJECT),  # a JSON number is not a string (spec: wrong types)
            Hostile("nul_char", "ab\x00cd", REJECT),
            Hostile("sql", SQL_INJECTION, REJECT if kind == "enum" or name in NAME_LIKE - {"name"} else MAY_ACCEPT),
            Hostile("html", HTML_INJECTION, REJECT if kind == "enum" or name in NAME_LIKE - {"name"} else MAY_ACCEPT),
            Hostile("blank", "   ", REJECT if name in NAME_LIKE or kind == "enum" else MAY_ACCEPT),
            Hostile("control_char", "bad\x07name", REJECT if name in NAME_LIKE or kind == "enum" else MAY_ACCEPT),
            Hostile(
                "lone_surrogate", "a\ud800b", REJECT if kind == "enum" or name in NAME_LIKE - {"name"} else MAY_ACCEPT
            ),
        ]
        if kind == "enum":
            out.append(Hostile("unknown_enum", "definitely_not_a_choice", REJECT))
    elif kind == "boolean":
        out += [
            Hostile("string", "maybe", REJECT),
            Hostile("number", 2, REJECT),
            # Only JSON true and false: the truthy spellings DRF's BooleanField takes are refused.
            Hostile("string_yes", "yes", REJECT),
            Hostile("string_true", "true", REJECT),
            Hostile("string_on", "on", REJECT),
            Hostile("number_one", 1, REJECT),
            Hostile("number_zero", 0, REJECT),
            Hostile("object", {"a": 1}, REJECT),
            Hostile("list", [True], REJECT),
        ]
    elif kind == "object":
        out += [
            Hostile("list", ["red", "M"], REJECT),
            Hostile("string", "color=red", REJECT),
            Hostile("number", 7, REJECT),
            Hostile("depth_6", nested(6), REJECT),
            Hostile("over_16k", {"k": "v" * (17 * 1024)}, REJECT),
            Hostile("sql_values", {"k": SQL_INJECTION, SQL_INJECTION: HTML_INJECTION}, MAY_ACCEPT),
        ]
    elif kind == "array":
        out += [
            Hostile("object", {"0": {}}, REJECT),
            Hostile("string", "lines", REJECT),
            Hostile("empty", [], REJECT),
            Hostile("scalars", [1, 2], REJECT),
            Hostile("too_many", [{}] * 1001, REJECT),
        ]
    if name in ID_FIELDS:
        out += [
            Hostile("id_missing", 2_000_000_000, REJECT),
            Hostile("id_zero", 0, REJECT),
        ]
        if name in deleted_ids:
            out.append(Hostile("id_deleted", deleted_ids[name], REJECT))
    if name in deleted_codes:
        # A deleted row's code: unknown when it points at another row, a duplicate when it is
        # the row's own code (codes stay reserved while soft-deleted).
        out.append(Hostile("code_deleted", deleted_codes[name], REJECT))
        if not own_code:
            out.append(Hostile("code_unknown", "NO-SUCH-CODE", REJECT))
    return out


@dataclass(frozen=True)
class RawBody:
    """A whole request body that must be refused, sent with `content_type`."""

    kind: str
    body: bytes
    content_type: str = "application/json"
    statuses: tuple[int, ...] = (400,)


# Declared charsets a JSON body may not use: unknown names, non-text codecs Python would
# otherwise look up (they used to end in a 500), and text ones that are not UTF-8.
NON_UTF8_CHARSETS = (
    "rot13",
    "base64",
    "hex",
    "zlib",
    "uu",
    "quopri",
    "punycode",
    "bz2",
    "idna",
    "no-such-charset",
    "latin-1",
    "utf-16",
    "utf-8-sig",
)


def duplicate_key_body(base: dict) -> bytes:
    """The base body with its first key given twice (or `{"a": 1, "a": 2}`): which one was meant?"""
    key, value = next(iter(base.items()), ("a", 1))
    rest = json.dumps(base)[1:-1]
    return ("{" + f"{json.dumps(key)}: {json.dumps(value)}, " + (rest or f"{json.dumps(key)}: 2") + "}").encode()


def whole_bodies(base: dict) -> list[RawBody]:
    base_text = json.dumps(base)
    return [
        *(
            RawBody(f"charset_{name}", base_text.encode(), f"application/json; charset={name}", statuses=(415,))
            for name in NON_UTF8_CHARSETS
        ),
        RawBody("duplicate_key", duplicate_key_body(base)),
        RawBody("json_null", b"null"),
        RawBody("json_list", b"[]"),
        RawBody("json_list_of_body", f"[{base_text}]".encode()),
        RawBody("json_string", b'"hello"'),
        RawBody("json_number", b"42"),
        RawBody("malformed", b'{"name": "x",'),
        RawBody("empty", b""),
        RawBody("invalid_utf8", b'{"name": "\xff\xfe\xfa", "sku_code": "\xc3\x28"}'),
        RawBody("utf16", base_text.encode("utf-16")),
        RawBody("deep_100k", b'{"a":' * 100_000 + b"1" + b"}" * 100_000),
        RawBody("nan_top", b'{"x": NaN}'),
        RawBody("over_2mib", b'{"name": "' + b"x" * (2 * 1024 * 1024 + 10) + b'"}', statuses=(413,)),
        RawBody("form", b"name=x&code=Y", "application/x-www-form-urlencoded", statuses=(415,)),
        RawBody(
            "multipart",
            b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n',
            "multipart/form-data; boundary=b",
            statuses=(415,),
        ),
        RawBody("text", base_text.encode(), "text/plain", statuses=(415,)),
        RawBody("xml", b"<sku><name>x</name></sku>", "application/xml", statuses=(415,)),
    ]


# Ids in the URL of a detail route that match the route's [0-9]+ but name no row.
URL_IDS = [("zero", "0"), ("missing", "2000000000"), ("int32_overflow", str(2**31)), ("huge", "9" * 30)]

# If-Match values that cannot match the current version: always 412, never a write.
IF_MATCH = [
    ("stale", '"999"'),
    ("huge", '"' + "9" * 40 + '"'),
    ("garbage", "abc"),
    ("negative", '"-1"'),
    ("empty", '""'),
    ("list", '"1", "2"'),
]
# Idempotency-Key values the contract refuses (1-255 printable ASCII): 400, nothing written.
IDEMPOTENCY_KEYS = [("blank", " "), ("too_long", "k" * 256), ("control", "key\x01"), ("non_ascii", "clé")]
