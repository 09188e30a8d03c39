"""Domain errors of the catalog; `inventory_site.api.exceptions` maps their codes to HTTP."""

from typing import Any

from inventory_site.exceptions import (  # noqa: F401  (re-exported for callers of the catalog)
    DomainError,
    Duplicate,
    HasDependents,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    VersionConflict,
)


class InvalidMove(DomainError):
    """A category cannot move under itself or one of its descendants."""

    code = "invalid_move"
    default_message = "A category cannot be moved under itself or one of its descendants."


class ParentDeleted(DomainError):
    """Restoring a row whose parent (category, or product of a SKU) is deleted."""

    code = "parent_deleted"
    default_message = "Its parent is deleted; restore the parent first."


class CatalogChanged(DomainError):
    """A bulk write lost a race: another writer took a code (or removed a row) it relied on."""

    code = "catalog_changed"
    default_message = "The catalog changed while importing; nothing was imported, run it again."


class BulkEditRefused(InvalidInput):
    """A bulk edit wrote nothing: at least one of its rows was refused (`changes` says which)."""

    def __init__(self, changes: list):
        self.changes = changes
        refused = [c for c in changes if c.error]
        super().__init__(
            f"{len(refused)} of {len(changes)} rows refused; nothing was changed.",
            errors={str(c.pk): c.error for c in refused},
        )


class RuleBroken(InvalidInput):
    """A value breaks one of the catalog's input rules (`catalog.rules`); `field` and `problem` say which."""

    def __init__(self, field: str, value: Any, problem: str):
        self.field, self.problem = field, problem
        super().__init__(f"{field} {_shown(value)} {problem}", errors={field: [f"{problem[0].upper()}{problem[1:]}."]})


def _shown(value: Any) -> str:
    """A value as a message quotes it: repr, cut short when long (a 5,001-digit number)."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}...' ({len(str(value))} characters)"
