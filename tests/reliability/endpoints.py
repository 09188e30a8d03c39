"""Every API route, found from the URL resolver, so that new endpoints are covered without
editing these suites; and the OpenAPI request schema of each write operation."""

import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, resolve

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
API_PREFIX = "api/v1/"
NOT_ENDPOINTS = {"schema"}


@dataclass(frozen=True)
class Route:
    """One URL pattern of the API and the HTTP methods its view answers."""

    name: str
    regex: str
    view_cls: type
    methods: tuple[str, ...]
    kwargs: tuple[str, ...]
    actions: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def model(self):
        """The model a route's ids name: the view's queryset, else the router basename."""
        queryset = getattr(self.view_cls, "queryset", None)
        if queryset is not None:
            return queryset.model
        basename = self.name.split("-")[0]
        return next((m for m in apps.get_models() if m._meta.model_name == basename), None)

    @property
    def is_detail(self) -> bool:
        return bool(self.kwargs)

    def path(self, **kwargs) -> str:
        """The concrete path with the captured groups filled in."""
        path = "/" + self.regex
        for name in self.kwargs:
            path = re.sub(rf"\(\?P<{name}>[^)]*\)", str(kwargs[name]), path)
        return path.replace("^", "").replace("$", "").replace("\\", "")

    def __str__(self) -> str:
        return f"/{self.regex.replace('^', '').replace('$', '')}"


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern.regex.pattern).lstrip("^"))
        elif isinstance(pattern, URLPattern):
            yield prefix + pattern.pattern.regex.pattern.lstrip("^"), pattern


def _methods(callback) -> tuple[tuple[str, ...], dict]:
    actions = getattr(callback, "actions", None)
    if actions:
        # DRF's viewset view adds "head" to its own `actions` on the first HEAD request: leave it out,
        # or the routes depend on which tests ran before.
        actions = {m: name for m, name in actions.items() if m not in ("options", "head")}
        return tuple(sorted(m.upper() for m in actions)), actions
    view_cls = callback.cls
    methods = [m.upper() for m in view_cls.http_method_names if m not in ("options", "head") and hasattr(view_cls, m)]
    return tuple(sorted(methods)), {}


@lru_cache(maxsize=1)
def api_routes() -> tuple[Route, ...]:
    """Each DRF view under /api/v1/ (format-suffix duplicates and the schema left out)."""
    routes = []
    for regex, pattern in _walk(get_resolver().url_patterns):
        callback = pattern.callback
        if not regex.startswith(API_PREFIX) or not hasattr(callback, "cls") or pattern.name in NOT_ENDPOINTS:
            continue
        group_names = tuple(pattern.pattern.regex.groupindex)
        if "format" in group_names:
            continue
        methods, actions = _methods(callback)
        routes.append(Route(pattern.name or regex, regex, callback.cls, methods, group_names, actions))
    return tuple(routes)


def write_operations() -> list[tuple[Route, str]]:
    return [(route, method) for route in api_routes() for method in route.methods if method in WRITE_METHODS]


@lru_cache(maxsize=1)
def openapi_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _deref(schema: dict, node: dict | None) -> dict:
    while node and "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if node and "allOf" in node and len(node["allOf"]) == 1:
        return _deref(schema, node["allOf"][0])
    return node or {}


def operation_for(route: Route, method: str) -> dict | None:
    """The OpenAPI operation documenting `method` on `route`, or None when undocumented."""
    schema = openapi_schema()
    for path, operations in schema.get("paths", {}).items():
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        try:
            match = resolve(concrete)
        except Exception:
            continue
        if match.url_name == route.name and method.lower() in operations:
            return operations[method.lower()]
    return None


def request_fields(route: Route, method: str) -> dict[str, dict]:
    """Writable top-level fields of the documented JSON body: name -> dereferenced JSON schema."""
    operation = operation_for(route, method) or {}
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    schema = openapi_schema()
    resolved = _deref(schema, body)
    fields = {}
    for name, prop in resolved.get("properties", {}).items():
        prop = _deref(schema, prop) if "$ref" in prop or "allOf" in prop else prop
        if prop.get("readOnly"):
            continue
        if prop.get("type") == "array" and prop.get("items"):
            prop = {**prop, "items": _deref(schema, prop["items"])}
        fields[name] = prop
    return fields


def header_params(route: Route, method: str) -> set[str]:
    """Request headers the operation documents (e.g. `Idempotency-Key`)."""
    operation = operation_for(route, method) or {}
    return {p["name"] for p in operation.get("parameters", []) if p.get("in") == "header"}
