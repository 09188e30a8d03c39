"""Plain typed parses of the hottest write bodies, without a serializer.

Each parse accepts only a body that the serializer would accept unchanged, and returns
None for anything else (a wrong type, a blank, a bound, an unexpected key), so the view
then runs the serializer, whose 400 envelope names the problem exactly as before.
"""

from dataclasses import dataclass

from inventory_site.api.fields import MAX_INT
from stock.services.reservations import MAX_TTL_SECONDS, CodedLine

_LINE_KEYS = frozenset({"sku_code", "quantity", "warehouse"})
_BODY_KEYS = frozenset({"reference", "ttl_seconds", "lines"})
MAX_LINES = 1000


@dataclass(frozen=True)
class PlainReservation:
    """A reservation body in the plain shape: codes and quantities."""

    reference: str
    ttl_seconds: int | None
    lines: list[CodedLine]
    allow_split: bool = False


def _text(value, max_length: int) -> str | None:
    """What `StrictCharField(max_length)` keeps (trimmed), or None where it could refuse the value."""
    if type(value) is not str:
        return None
    value = value.strip()
    if not value or len(value) > max_length or "\x00" in value or not value.isprintable():
        return None
    return value


def _whole(value, low: int, high: int) -> int | None:
    if type(value) is not int or not low <= value <= high:
        return None
    return value


def plain_reservation(data) -> PlainReservation | None:
    """`{"reference", "ttl_seconds"?, "lines": [{"sku_code", "quantity", "warehouse"?}]}` or None."""
    if type(data) is not dict or not data.keys() <= _BODY_KEYS:
        return None
    reference = _text(data.get("reference"), 100)
    ttl = data.get("ttl_seconds")
    raw_lines = data.get("lines")
    if reference is None or ("ttl_seconds" in data and _whole(ttl, 1, MAX_TTL_SECONDS) is None):
        return None
    if type(raw_lines) is not list or not 1 <= len(raw_lines) <= MAX_LINES:
        return None
    lines = []
    for raw in raw_lines:
        if type(raw) is not dict or not raw.keys() <= _LINE_KEYS:
            return None
        code = _text(raw.get("sku_code"), 50)
        quantity = _whole(raw.get("quantity"), 1, MAX_INT)
        warehouse = None
        if "warehouse" in raw:
            warehouse = _text(raw["warehouse"], 20)
            if warehouse is None:
                return None
        if code is None or quantity is None:
            return None
        lines.append(CodedLine(sku_code=code, quantity=quantity, warehouse_code=warehouse))
    return PlainReservation(reference=reference, ttl_seconds=ttl, lines=lines)
