"""The categories an import plans: stored ones, or new ones not yet written (their own module, so that
the product plan can name them without importing the category import)."""

from dataclasses import dataclass, field

from catalog.models import Category


@dataclass(eq=False)
class NewCategory:
    """A category to create: its columns, without a model instance (10k of them are common)."""

    name: str
    slug: str
    path: str
    level: int
    description: str = ""
    attributes: dict = field(default_factory=dict)
    pk: int | None = None
    parent_id: int | None = None
    lft: int = 0
    rght: int = 0
    tree_id: int = 0

    COLUMNS = (
        "id",
        "name",
        "slug",
        "description",
        "parent_id",
        "path",
        "attributes",
        "lft",
        "rght",
        "tree_id",
        "level",
    )


# A category of the plan: stored, or to be created.
PlannedCategory = Category | NewCategory
