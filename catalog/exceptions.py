"""Domain errors of the catalog; `inventory_site.api.exceptions` maps their codes to HTTP."""
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

