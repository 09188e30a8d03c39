"""Streaming export of the active catalog, in the row shape `import_catalog` reads.

One row per active SKU; a product without active SKUs and a category without active
products each get a row of their own, so the file carries the whole active catalog.
Rows are ordered by category path, product name and SKU code, which depend only on the
data: exporting, importing into another database and exporting again gives the same bytes.
CSV cells a spreadsheet would run as a formula are escaped (`inventory_site.spreadsheets`).
"""

import csv
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from django.db.models import FilteredRelation, Q
from django.db.models.functions import Lower

from catalog.models import Category
from catalog.services.imports import CATALOG_COLUMNS
from inventory_site.spreadsheets import csv_cell_escaped

EXPORT_CHUNK_SIZE = 2000

_FIELDS = {
    "category_path": "path",
    "category_description": "description",
    "category_attributes": "attributes",
    "product_name": "active_product__name",
    "product_description": "active_product__description",
    "product_attributes": "active_product__attributes",
    "sku_code": "active_sku__sku_code",
    "price": "active_sku__price",
    "attributes": "active_sku__attributes",
    "backorder_policy": "active_sku__backorder_policy",
}


def _json_text(value: Any) -> str:
    return json.dumps(value if value is not None else {}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def catalog_export_rows() -> Iterator[dict[str, str]]:
    """Yield the active catalog as rows of text, streamed from one query (constant memory)."""
    query = (
        Category.objects.annotate(
            active_product=FilteredRelation("products", condition=Q(products__is_deleted=False)),
            active_sku=FilteredRelation("active_product__skus", condition=Q(active_product__skus__is_deleted=False)),
        )
        .order_by(
            "path",
            Lower("active_product__name"),
            "active_product__name",
            "active_product__id",
            Lower("active_sku__sku_code"),
        )
        .values_list(*_FIELDS.values())
    )
    for values in query.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        row = dict(zip(_FIELDS, values, strict=True))
        has_product = row["product_name"] is not None
        has_sku = row["sku_code"] is not None
        yield {
            "category_path": row["category_path"],
            "category_description": row["category_description"],
            "category_attributes": _json_text(row["category_attributes"]),
            "product_name": row["product_name"] or "",
            "product_description": row["product_description"] or "",
            "product_attributes": _json_text(row["product_attributes"]) if has_product else "",
            "sku_code": row["sku_code"] or "",
            "price": f"{Decimal(row['price']):.2f}" if has_sku else "",
            "attributes": _json_text(row["attributes"]) if has_sku else "",
            "backorder_policy": row["backorder_policy"] or "",
        }


def catalog_export_write(output: IO[str], *, file_format: str = "csv") -> Iterator[int]:
    """Write the export to `output` as CSV or JSON, yielding after each row (for progress)."""
    if file_format == "csv":
        writer = csv.writer(output, lineterminator="\n")
        writer.writerow(CATALOG_COLUMNS)
        for row in catalog_export_rows():
            # Formula-like text is escaped for spreadsheets; `import_catalog` reads it back as it was.
            writer.writerow([csv_cell_escaped(row[column]) for column in CATALOG_COLUMNS])
            yield 1
        return
    if file_format != "json":
        raise ValueError(f"unknown format {file_format!r}")
    # A list with one object per line: diff-friendly and line numbers point at rows.
    output.write("[")
    separator = "\n"
    for row in catalog_export_rows():
        record = {
            column: (json.loads(row[column]) if row[column] else None) if column.endswith("attributes") else row[column]
            for column in CATALOG_COLUMNS
        }
        output.write(separator + json.dumps(record, ensure_ascii=False, separators=(", ", ": ")))
        separator = ",\n"
        yield 1
    output.write("\n]\n")
