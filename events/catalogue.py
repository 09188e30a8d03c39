"""The catalogue of event types. `events` knows no domain: each app registers the types it
emits from its `AppConfig.ready()`, and a subscription may only name types of the catalogue
or prefixes (`stock.*`, `*`) that match at least one of them."""

from collections.abc import Iterable

from inventory_site.exceptions import InvalidInput

_TYPES: set[str] = {"webhook.ping"}


def event_types_register(types: Iterable[str]) -> None:
    """Add the event types an app emits to the catalogue (idempotent)."""
    _TYPES.update(types)


def event_types() -> frozenset[str]:
    """Every registered event type."""
    return frozenset(_TYPES)


def pattern_matches(pattern: str, event_type: str) -> bool:
    """Whether a subscription's `events` entry (a type, `prefix.*` or `*`) names the type."""
    return pattern in ("*", event_type) or (pattern.endswith(".*") and event_type.startswith(pattern[:-1]))


def patterns_matching_nothing(patterns: Iterable[str]) -> list[str]:
    """The entries that name no event type of the catalogue, in their order."""
    known = event_types()
    return [pattern for pattern in patterns if not any(pattern_matches(pattern, t) for t in known)]


def event_patterns_check(patterns: Iterable[str]) -> None:
    """Refuse entries that name no event type of the catalogue (a typo would subscribe to nothing)."""
    unknown = patterns_matching_nothing(patterns)
    if unknown:
        message = f"Matches no event type: {', '.join(repr(p) for p in unknown)} (e.g. stock.level.changed, stock.*)."
        raise InvalidInput(message, errors={"events": [message]})
