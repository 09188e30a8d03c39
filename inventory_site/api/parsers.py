"""The API's only parser: strict JSON (UTF-8, unique keys), bounded in size and depth."""

import json
import re

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is larger than 2 MiB."
    default_code = "payload_too_large"


def _reject_constant(value: str):
    raise ValueError(f"{value} is not valid JSON")


class DuplicateKey(ValueError):
    """An object names one key twice: which value was meant is unknowable (RFC 8259 says SHOULD be unique)."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise DuplicateKey(f"the key {twice!r} appears twice in one object")
    return data


# A `\uD800`-`\uDFFF` escape: legal JSON, but alone it is no character, and neither
# PostgreSQL nor the UTF-8 response encoder can take it (it used to end in a 500).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _has_lone_surrogate(value) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


class StrictJSONParser(JSONParser):
    """`application/json` only; NaN/Infinity, bodies over the upload limit, and JSON too
    deep to parse are refused with a clear error instead of a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge()
        if not raw.strip():
            raise exceptions.ParseError("Request body is empty; send a JSON object.")
        try:
            # JSON is UTF-8 (RFC 8259); Utf8BodyMiddleware has refused any other declared charset.
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(f"JSON parse error - body is not valid UTF-8: {exc.reason}") from exc
        try:
            data = json.loads(
                text,
                parse_constant=_reject_constant if api_settings.STRICT_JSON else None,
                object_pairs_hook=_unique_keys,
            )
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nested too deep.") from exc
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        try:
            lone_surrogate = bool(_SURROGATE_ESCAPE.search(text)) and _has_lone_surrogate(data)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nested too deep.") from exc
        if lone_surrogate:
            raise exceptions.ParseError("JSON parse error - a \\u escape names half a character (lone surrogate).")
        return data
