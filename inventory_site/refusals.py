"""Domain errors as sentences for people (admin messages, form errors): no dicts, no ids."""

from typing import Any

from inventory_site.exceptions import DomainError

# Detail keys the services use, in the words staff use.
_LABELS = {
    "available": "available",
    "requested": "requested",
    "current_on_hand": "on hand now",
    "current_version": "current version",
    "sku_code": "SKU code",
    "sku_codes": "SKU codes",
}


def detail_text(errors: Any) -> str:
    """`{"available": 21, "requested": 500}` -> "21 available, 500 requested"."""
    if errors is None:
        return ""
    if isinstance(errors, dict):
        parts, by_line = [], False
        for key, value in errors.items():
            label = _LABELS.get(str(key), str(key).replace("_", " "))
            text = detail_text(value)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                parts.append(f"{text} {label}")
            elif str(key).isdigit():
                by_line = True
                parts.append(f"line {int(key) + 1}: {text}")
            elif key == "lines":
                parts.append(text)
            elif isinstance(value, str) or str(key) in _LABELS:
                parts.append(f"{label} {text}")
            else:
                parts.append(f"{label}: {text}")
        return ("; " if by_line else ", ").join(parts)
    if isinstance(errors, (list, tuple)):
        return ", ".join(detail_text(item) for item in errors)
    return str(errors)


def refusal_text(exc: DomainError) -> str:
    """The error's message, then its detail in words: "Not enough stock available (21 available, 500 requested)."."""
    detail = detail_text(exc.errors)
    message = exc.message.rstrip(".")
    return f"{message} ({detail})." if detail else f"{message}."


def refusal_sentence(exc: DomainError) -> str:
    """The message alone when its detail only repeats it field by field ("price '1.005' has
    more than 2 decimal places."), else `refusal_text`."""
    errors = exc.errors
    if isinstance(errors, dict) and errors and all(isinstance(v, (list, str)) for v in errors.values()):
        return exc.message
    return refusal_text(exc)
