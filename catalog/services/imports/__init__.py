"""Bulk catalog import: check every row of a file, then upsert categories by path,
products by name within their category and SKUs by code, all in one transaction, with
one event per object written (`catalog.*.created|updated`, in one COPY).

Rows are matched case-insensitively and never renamed: a path, product name or SKU
code found in the database keeps its stored spelling. Bulk writes skip `save()`; each
row created or changed gets the django-simple-history row `save()` would have written
(change reason "Catalog import"), so the history starts at the import.

A row may leave `sku_code` (and `price`) empty to carry a product without SKUs, and
also `product_name` to carry a category without products; `export_catalog` writes
such rows so that a file round-trips the whole active catalog.

`files` reads a file, `rows` checks every row with the API's rules; `plan` matches the rows to
the stored catalog (`categories`, `products`, `skus`) and writes the differences in bulk
(`inserts`, `updates`).
"""

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction

from catalog.events import emit_bulk_writes
from catalog.exceptions import CatalogChanged
from catalog.services.categories import category_tree_lock
from catalog.services.imports.files import catalog_file_records
from catalog.services.imports.plan import ImportPlan
from catalog.services.imports.rows import (
    CATALOG_COLUMNS,
    CatalogImportInvalid,
    CatalogImportResult,
    CatalogRow,
    catalog_row_check,
    catalog_rows_check,
)
from inventory_site.types import Actor

__all__ = [
    "CATALOG_COLUMNS",
    "CatalogChanged",
    "CatalogImportInvalid",
    "CatalogImportResult",
    "CatalogRow",
    "catalog_file_records",
    "catalog_import",
    "catalog_row_check",
    "catalog_rows_check",
]


def catalog_import(
    *,
    rows: list[CatalogRow],
    unit: str = "line",
    dry_run: bool = False,
    user: Actor = None,
    progress: Callable[[int], Any] | None = None,
) -> CatalogImportResult:
    """Upsert checked rows in one transaction; on any row error write nothing.

    Raises `CatalogImportInvalid` with every row that cannot be applied (a deleted SKU
    holding the code, an ambiguous product name, conflicting values for one product), and
    `CatalogChanged` when another writer took one of its SKU codes (or removed a row it
    relied on) after the rows were matched: the database refused the write, nothing is kept.
    """
    try:
        return _catalog_import(rows=rows, unit=unit, dry_run=dry_run, user=user, progress=progress)
    except IntegrityError as exc:
        # Outside the transaction: a deferred foreign key is checked only at its commit.
        reason = " ".join(str(exc).split())  # the database's message, with its DETAIL, on one line
        raise CatalogChanged(
            f"The catalog changed while importing; nothing was imported, run it again ({reason})."
        ) from exc


@transaction.atomic
def _catalog_import(
    *,
    rows: list[CatalogRow],
    unit: str,
    dry_run: bool,
    user: Actor,
    progress: Callable[[int], Any] | None,
) -> CatalogImportResult:
    category_tree_lock()
    plan = ImportPlan(rows, unit)
    plan.build()
    if plan.errors:
        raise CatalogImportInvalid(
            f"{len(plan.errors)} invalid row(s); nothing was imported.",
            errors=dict(sorted(plan.errors.items(), key=lambda kv: int(kv[0].split()[1]))),
        )
    plan.result.dry_run = dry_run
    if not dry_run:
        plan.write(progress, user=user)
        emit_bulk_writes(**plan.written())
    return plan.result
