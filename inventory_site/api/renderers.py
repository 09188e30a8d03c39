"""Renderers that put every API response in the envelope."""
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer

from inventory_site.api.envelope import Envelope, success

DEFAULT_MESSAGES = {200: "OK", 201: "Created", 202: "Accepted"}


def envelope_for(data, renderer_context) -> Envelope | None:
    response = (renderer_context or {}).get("response")
    if response is None or response.status_code == 204:
        return data
    if isinstance(data, Envelope):
        return data
    message = getattr(response, "message", None) or DEFAULT_MESSAGES.get(response.status_code, "OK")
    return success(data, message=message)


class EnvelopeJSONRenderer(JSONRenderer):
    """JSON, wrapped as `{"status", "data", "message", "meta"}`."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return super().render(envelope_for(data, renderer_context), accepted_media_type, renderer_context)


class EnvelopeBrowsableAPIRenderer(BrowsableAPIRenderer):
    """The browsable API for logged-in staff, showing the same envelope."""

    def get_content(self, renderer, data, accepted_media_type, renderer_context):
        if isinstance(renderer, EnvelopeJSONRenderer):
            return super().get_content(renderer, data, accepted_media_type, renderer_context)
        return super().get_content(renderer, envelope_for(data, renderer_context), accepted_media_type, renderer_context)
