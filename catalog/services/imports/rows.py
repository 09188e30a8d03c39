"""Checking the rows of a catalog file with the API's rules (every bad row, with its line)."""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, cast

from catalog.rules import (
    CATEGORY_DESCRIPTION_MAX_LENGTH,
    PRODUCT_DESCRIPTION_MAX_LENGTH,
    attributes_checked,
    backorder_policy_checked,
    category_name_checked,
    description_checked,
    price_checked,
    product_name_checked,
    sku_code_checked,
)
from inventory_site.exceptions import InvalidInput
from inventory_site.validators import PATH_SEPARATOR

CATALOG_COLUMNS = (
    "category_path",
    "category_description",
    "category_attributes",
    "product_name",
    "product_description",
    "product_attributes",
    "sku_code",
    "price",
    "attributes",
    "backorder_policy",
)
REQUIRED_COLUMNS = ("category_path", "product_name", "sku_code", "price")
# Optional columns: absent means "leave as stored"; for the *_attributes ones and
# backorder_policy an empty cell means the same (a new SKU then gets `deny`).
OPTIONAL_COLUMNS = (
    "category_description",
    "category_attributes",
    "product_description",
    "product_attributes",
    "backorder_policy",
)


class CatalogImportInvalid(InvalidInput):
    """Some rows of an import are invalid; `errors` maps `"line N"` to its reasons."""


@dataclass
class CatalogRow:
    """One checked row of an import file."""

    line: int
    category_path: tuple[str, ...]
    category_description: str | None = None
    category_attributes: dict | None = None
    product_name: str | None = None
    product_description: str | None = None
    product_attributes: dict | None = None
    sku_code: str | None = None
    price: Decimal | None = None
    attributes: dict | None = None
    backorder_policy: str | None = None  # None: as stored (`deny` for a new SKU)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class CatalogImportResult:
    """What an import did (or, dry run, would do) to each kind of row."""

    rows: int = 0
    categories: Counts = field(default_factory=Counts)
    products: Counts = field(default_factory=Counts)
    skus: Counts = field(default_factory=Counts)
    dry_run: bool = False

    @property
    def created(self) -> int:
        return self.categories.created + self.products.created + self.skus.created

    @property
    def updated(self) -> int:
        return self.categories.updated + self.products.updated + self.skus.updated

    @property
    def unchanged(self) -> int:
        return self.categories.unchanged + self.products.unchanged + self.skus.unchanged


# --- checking rows -------------------------------------------------------------------
#
# A catalog file repeats the same paths, names, descriptions, attribute texts and prices on
# many rows: each check of a cell is memoized by the cell as read (`typed`: `1`, `1.0` and
# `True` from a JSON file are three cells), so that a text is checked once, by the catalog's
# rules, however many rows carry it; an unhashable cell (a list or object from a JSON file) is
# checked each time. A cell's fault is a ValueError with the message the row reports; values
# are shared by the rows: never change them.
_per_cell = lru_cache(maxsize=100_000, typed=True)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("must be text")
    return value.strip()


def _ruled(rule: Callable[..., Any], value: Any, *args: Any) -> Any:
    """`rule(value, *args)` of `catalog.rules`, its refusal as the ValueError a row fault is."""
    try:
        return rule(value, *args)
    except InvalidInput as exc:
        raise ValueError(exc.message) from None


def _attributes(value: Any, label: str, *, empty_means_none: bool) -> dict | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None if empty_means_none else {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # ValueError: also an integer of over 4,300 digits
            raise ValueError(f"{label}: Must be valid JSON.") from None
    return _ruled(attributes_checked, value, label)


def _category_name(value: str) -> str:
    try:
        return category_name_checked(value, "category name")
    except InvalidInput as exc:
        raise ValueError(f"{exc.message} in category_path") from None


@_per_cell
def _category_path(cell: Any) -> tuple[str, ...]:
    raw = _text(cell)
    if not raw:
        raise ValueError("category_path is empty")
    return tuple(_category_name(part.strip()) for part in raw.split(PATH_SEPARATOR))


@_per_cell
def _category_description(cell: Any) -> str:
    return _ruled(description_checked, _text(cell), CATEGORY_DESCRIPTION_MAX_LENGTH, "category_description")


@_per_cell
def _category_attributes(cell: Any) -> dict | None:
    return _attributes(cell, "category_attributes", empty_means_none=True)


@_per_cell
def _product_name(text: str) -> str:
    return _ruled(product_name_checked, text, "product_name")


@_per_cell
def _product_description(cell: Any) -> str:
    return _ruled(description_checked, _text(cell), PRODUCT_DESCRIPTION_MAX_LENGTH, "product_description")


@_per_cell
def _product_attributes(cell: Any) -> dict | None:
    return _attributes(cell, "product_attributes", empty_means_none=True)


@_per_cell
def _price(cell: Any) -> Decimal:
    if isinstance(cell, bool) or cell is None or cell == "":
        raise ValueError("price is required with a sku_code")
    return _ruled(price_checked, str(cell).strip())


@_per_cell
def _sku_attributes(cell: Any) -> dict:
    # Never None: an empty cell is `{}` here.
    return cast(dict, _attributes(cell, "attributes", empty_means_none=False))


@_per_cell
def _backorder_policy(cell: Any) -> str | None:
    """`backorder_policy` by `catalog.rules.backorder_policy_checked`; an empty cell is None (as stored)."""
    text = _text(cell) if cell is None or isinstance(cell, str) else None
    if text is None:
        raise ValueError("backorder_policy must be text")
    return _ruled(backorder_policy_checked, text) if text else None


def _cell(faults: list[str], check: Callable[[Any], Any], cell: Any) -> Any:
    """`check(cell)`, or None with its fault added to `faults`."""
    try:
        return check(cell)
    except ValueError as exc:
        faults.append(str(exc))
        return None
    except TypeError:  # an unhashable cell, not memoized
        return _cell(faults, check.__wrapped__, cell)  # type: ignore[attr-defined]


def catalog_row_check(line: int, record: Any) -> CatalogRow:
    """Turn one raw record into a `CatalogRow` or raise `ValueError` listing its faults."""
    if not isinstance(record, dict):
        raise ValueError("must be an object")
    if record.get("__extra__"):
        raise ValueError("has more cells than the header")
    faults: list[str] = []
    get = record.get
    row = CatalogRow(line=line, category_path=_cell(faults, _category_path, get("category_path")) or ())
    if "category_description" in record:
        row.category_description = _cell(faults, _category_description, record["category_description"])
    row.category_attributes = _cell(faults, _category_attributes, get("category_attributes"))
    product_name = _cell(faults, _text, get("product_name"))
    sku_code = _cell(faults, _text, get("sku_code"))
    if product_name:
        row.product_name = _cell(faults, _product_name, product_name)
        if "product_description" in record:
            row.product_description = _cell(faults, _product_description, record["product_description"])
        row.product_attributes = _cell(faults, _product_attributes, get("product_attributes"))
    if sku_code:
        if not product_name:
            faults.append("product_name is empty")
        _cell(faults, _sku_code, sku_code)
        row.sku_code = sku_code
        row.price = _cell(faults, _price, get("price"))
        row.attributes = _cell(faults, _sku_attributes, get("attributes"))
        row.backorder_policy = _cell(faults, _backorder_policy, get("backorder_policy"))
    else:
        if str(get("price") or "").strip():
            faults.append("price is given without a sku_code")
        if str(get("backorder_policy") or "").strip():
            faults.append("backorder_policy is given without a sku_code")
    if faults:
        raise ValueError("; ".join(faults))
    return row


def _sku_code(code: str) -> str:
    return _ruled(sku_code_checked, code)


def catalog_rows_check(
    records: Iterable[tuple[int, Any]], *, unit: str = "line", progress: Callable[[int], Any] | None = None
) -> list[CatalogRow]:
    """Check every record; raise `CatalogImportInvalid` naming every bad one, in order."""
    rows: list[CatalogRow] = []
    errors: dict[str, str] = {}
    seen_codes: dict[str, int] = {}
    done = 0
    for line, record in records:
        try:
            row = catalog_row_check(line, record)
        except ValueError as exc:
            errors[f"{unit} {line}"] = str(exc)
        else:
            if row.sku_code:
                key = row.sku_code.lower()
                if key in seen_codes:
                    errors[f"{unit} {line}"] = f"sku_code {row.sku_code!r} repeats {unit} {seen_codes[key]}"
                    continue
                seen_codes[key] = line
            rows.append(row)
        done += 1
        if progress and done >= 1000:
            progress(done)
            done = 0
    if progress and done:
        progress(done)
    if errors:
        raise CatalogImportInvalid(f"{len(errors)} invalid row(s); nothing was imported.", errors=errors)
    return rows


# --- writing -------------------------------------------------------------------------
