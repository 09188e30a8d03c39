"""Renderers that put every API response in the envelope."""

import orjson
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from inventory_site.api.envelope import Envelope, success
from inventory_site.api.pagination import one_page_meta

DEFAULT_MESSAGES = {200: "OK", 201: "Created", 202: "Accepted"}


def envelope_for(data, renderer_context) -> Envelope | None:
    response = (renderer_context or {}).get("response")
    if response is None or response.status_code == 204:
        return data
    if isinstance(data, Envelope):
        return data
    message = getattr(response, "message", None) or DEFAULT_MESSAGES.get(response.status_code, "OK")
    # A list that is not paginated (ancestors, the tree) is one page holding everything: every
    # list answer carries `page`, `size`, `total` and `pages`.
    return success(data, message=message, meta=one_page_meta(len(data)) if isinstance(data, list) else None)


_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_drf_default = JSONEncoder().default


def _dumps(data) -> bytes:
    """What DRF's compact `json.dumps` writes, encoded by orjson: what orjson does not write
    itself (datetimes, decimals, lazy strings, querysets...) goes through DRF's own encoder."""
    ret = orjson.dumps(data, default=_drf_default, option=_ORJSON_OPTIONS)
    if b"\xe2\x80" in ret:  # U+2028/U+2029 escaped, as DRF does, so the JSON is a JavaScript subset
        ret = ret.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
    return ret


class EnvelopeJSONRenderer(JSONRenderer):
    """JSON, wrapped as `{"status", "data", "message", "meta"}`.

    Compact output is encoded by orjson (several times faster than `json.dumps` on a
    page of 100 rows); an indented one (`Accept: application/json; indent=4`) by DRF.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        data = envelope_for(data, renderer_context)
        if data is not None and self.get_indent(accepted_media_type, renderer_context or {}) is None:
            try:
                return _dumps(data)
            except orjson.JSONEncodeError:  # integers past 64 bits, nesting past 255 levels
                pass
        return super().render(data, accepted_media_type, renderer_context)


class EnvelopeBrowsableAPIRenderer(BrowsableAPIRenderer):
    """The browsable API for logged-in staff, showing the same envelope."""

    def get_content(self, renderer, data, accepted_media_type, renderer_context):
        if isinstance(renderer, EnvelopeJSONRenderer):
            return super().get_content(renderer, data, accepted_media_type, renderer_context)
        return super().get_content(
            renderer, envelope_for(data, renderer_context), accepted_media_type, renderer_context
        )
