"""Building blocks for the API's viewsets: envelope messages, ETag/If-Match, version checks."""

import re
from typing import TYPE_CHECKING

from rest_framework import serializers, viewsets
from rest_framework.response import Response

from inventory_site.exceptions import PreconditionFailed
from inventory_site.models import VersionedModel

if TYPE_CHECKING:
    _ViewSetBase = viewsets.GenericViewSet
else:
    _ViewSetBase = object

ID_PATTERN = r"[0-9]{1,18}"  # longer ids cannot exist (bigint) and would overflow the query
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')
MAX_INT = 2**31 - 1


def etag_for(obj: VersionedModel) -> str:
    return f'"{obj.version}"'


class MessageResponse(Response):
    """A response that carries the envelope's `message` for the renderer."""

    message: str


def respond(data, *, message: str = "OK", status: int = 200, headers: dict | None = None) -> Response:
    """A success response whose envelope (made by the renderer) carries `message`."""
    response = MessageResponse(data, status=status, headers=headers)
    response.message = message
    return response


def write_preconditions(request, *, current_version=None) -> dict:
    """The version checks a write asked for: `version` in the body, `If-Match` in the header.

    Returns keyword arguments for `VersionedModel.lock_for_write`. A malformed value is a
    400 for the body and a 412 for the header (it cannot match any version).
    """
    expected = request.data.get("version") if isinstance(request.data, dict) else None
    if expected is not None and (
        isinstance(expected, bool) or not isinstance(expected, int) or not 1 <= expected <= MAX_INT
    ):
        raise serializers.ValidationError({"version": ["Must be a whole number of at least 1."]})
    if_match = None
    header = request.headers.get("If-Match")
    if header is not None and header.strip() != "*":
        match = _ETAG.match(header)
        if not match:
            raise PreconditionFailed(
                current_version if current_version is not None else 0,
                'If-Match must be a quoted version number, e.g. "3".',
            )
        if_match = int(match.group(1))
    return {"expected_version": expected, "if_match": if_match}


class EnvelopeViewSetMixin(_ViewSetBase):
    """Numeric ids only, `ETag` on retrieve, and a readable `message` per action."""

    lookup_value_regex = ID_PATTERN

    def get_object_label(self) -> str:
        return self.get_queryset().model._meta.verbose_name.capitalize()

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        return respond(self.get_serializer(instance).data, headers={"ETag": etag_for(instance)})


class EnvelopeModelViewSet(EnvelopeViewSetMixin, viewsets.ModelViewSet):
    """A ModelViewSet answering in the envelope; subclasses route writes through services."""
