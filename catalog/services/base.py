"""What every catalog write does the same way: check its input, lock the row it changes and
stamp the history."""

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models

from catalog.exceptions import InvalidInput, NotFound
from inventory_site.models import VersionedModel
from inventory_site.types import Actor

_V = TypeVar("_V", bound=VersionedModel)

# A keyword argument the caller left out (an update that does not change that field).
UNSET: Any = object()


def checked_fields(*checks: tuple[Callable[[Any], Any], Any]) -> list[Any]:
    """Each given value run through its rule (`catalog.rules`), `UNSET` ones skipped.

    Every broken rule is reported at once: one `InvalidInput` with the errors of all fields.
    """
    values, errors, messages = [], {}, []
    for check, value in checks:
        if value is UNSET:
            values.append(value)
            continue
        try:
            values.append(check(value))
        except InvalidInput as exc:
            values.append(None)
            errors.update(exc.errors or {})
            messages.append(exc.message)
    if messages:
        raise InvalidInput("; ".join(messages) + ".", errors=errors)
    return values


def locked_for_write(
    queryset: models.QuerySet[_V], pk: int, *, expected_version: int | None, if_match: int | None
) -> _V:
    """The row `pk` of `queryset`, locked, after the caller's version checks; `NotFound` if absent."""
    model = queryset.model
    try:
        return model.lock_for_write(pk, expected_version=expected_version, if_match=if_match, queryset=queryset)
    except model.DoesNotExist:
        raise NotFound(f"{str(model._meta.verbose_name).capitalize()} {pk} not found.") from None


def stamp_history(obj: _V, user: Actor) -> _V:
    """Record `user` as the author of the history row the next save writes.

    Requests set the author through simple_history's middleware; this covers the admin
    actions, commands and tests that call services directly.
    """
    if user is not None and getattr(user, "is_authenticated", False):
        obj._history_user = user
    return obj
