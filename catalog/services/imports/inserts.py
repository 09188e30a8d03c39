"""Inserting an import's new rows: one COPY of text made here per table.

No dict per row: the cells are formatted straight into COPY's text format.
Attribute dicts are shared by many rows and dumped once each.
"""

import json
from collections.abc import Callable, Iterator
from typing import Any

from django.utils import timezone

from catalog.models import SKU, Category, Product
from catalog.services.bulk_rows import chunks, copy_cell, copy_text_rows
from catalog.services.imports.products import NewProduct, product_slug
from catalog.services.imports.rows import CatalogRow
from catalog.services.imports.skus import DEFAULT_POLICY


def _json_cells() -> Callable[[dict], str]:
    """A COPY cell maker for attribute dicts that dumps each dict (by identity) once."""
    cells: dict[int, str] = {}

    def json_cell(value: dict) -> str:
        cell = cells.get(id(value))
        if cell is None:
            cell = cells[id(value)] = copy_cell(json.dumps(value))
        return cell

    return json_cell


def categories_insert(nodes: list, columns: tuple[str, ...]) -> None:
    """Write new categories (ids and mptt numbers set, `columns` named as on the table, the id as
    `pk`), parents before children."""
    now = timezone.now()
    stamps = {"created_at": now, "updated_at": now, "version": 1, "is_deleted": False, "deleted_at": None}
    json_cell = _json_cells()

    def cell(value: Any) -> str:
        return json_cell(value) if isinstance(value, dict) else copy_cell(value)

    def lines() -> Iterator[list[str]]:
        for batch in chunks(nodes):
            yield [
                "\t".join(
                    [
                        cell(n.pk),
                        cell(n.name),
                        cell(n.slug),
                        cell(n.description),
                        cell(n.parent_id),
                        cell(n.path),
                        cell(n.attributes),
                        cell(n.lft),
                        cell(n.rght),
                        cell(n.tree_id),
                        cell(n.level),
                    ]
                )
                + "\n"
                for n in batch
            ]

    copy_text_rows(Category, stamps, list(columns), lines())


def new_rows_copy(
    new_products: list[NewProduct],
    new_skus: list[tuple[CatalogRow, Any]],
    new_sku_ids: list[int],
    stamps: dict,
    sku_stamps: dict,
    progress: Callable[[int], Any] | None,
) -> None:
    """The new products, then the new SKUs, each in one COPY of text made here.

    A SKU code passed `catalog.rules.sku_code_checked`, ids are ints, prices quantized Decimals
    and policies `catalog.rules.backorder_policy_checked`'s words: none needs escaping (the
    table's check constraint refuses any other policy all the same).
    """
    json_cell = _json_cells()

    def product_lines() -> Iterator[list[str]]:
        for batch in chunks(new_products):
            yield [
                f"{p.pk}\t{copy_cell(p.name)}\t{copy_cell(product_slug(p.name))}\t{p.category.pk}\t"
                f"{copy_cell(p.description)}\t{json_cell(p.attributes)}\n"
                for p in batch
            ]

    copy_text_rows(Product, stamps, ["id", "name", "slug", "category_id", "description", "attributes"], product_lines())

    def sku_lines() -> Iterator[list[str]]:
        for batch, ids in zip(chunks(new_skus), chunks(new_sku_ids), strict=True):
            yield [
                f"{sku_id}\t{row.sku_code}\t{product.pk}\t{row.price}\t{json_cell(row.attributes)}\t"
                f"{row.backorder_policy or DEFAULT_POLICY}\n"
                for (row, product), sku_id in zip(batch, ids, strict=True)
            ]
            if progress:
                progress(len(batch))

    copy_text_rows(
        SKU, sku_stamps, ["id", "sku_code", "product_id", "price", "attributes", "backorder_policy"], sku_lines()
    )
