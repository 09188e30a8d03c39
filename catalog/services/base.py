"""What every catalog write does the same way: lock the row it changes and stamp the history."""
from django.db import models

from catalog.exceptions import NotFound


def locked_for_write(queryset: models.QuerySet, pk: int, *, expected_version: int | None, if_match: int | None):
    """The row `pk` of `queryset`, locked, after the caller's version checks; `NotFound` if absent."""
    model = queryset.model
    try:
        return model.lock_for_write(pk, expected_version=expected_version, if_match=if_match, queryset=queryset)
    except model.DoesNotExist:
        raise NotFound(f"{model._meta.verbose_name.capitalize()} {pk} not found.") from None


def stamp_history(obj: models.Model, user) -> models.Model:
    """Record `user` as the author of the history row the next save writes.

    Requests set the author through simple_history's middleware; this covers the admin
    actions, commands and tests that call services directly.
    """
    if user is not None and getattr(user, "is_authenticated", False):
        obj._history_user = user
    return obj
