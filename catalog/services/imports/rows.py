"""Checking the rows of a catalog file with the API's rules (every bad row, with its line)."""
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from catalog.rules import (
    CATEGORY_DESCRIPTION_MAX_LENGTH,
    PRODUCT_DESCRIPTION_MAX_LENGTH,
    attributes_checked,
    backorder_policy_checked,
    category_name_checked,
    description_checked,
    SKU_CODE_PATTERN,
    price_checked,
    product_name_checked,
    sku_code_checked,
)
from inventory_site.exceptions import InvalidInput
from inventory_site.validators import PATH_SEPARATOR

CATALOG_COLUMNS = (
    "category_path", "category_description", "category_attributes",
    "product_name", "product_description", "product_attributes",
    "sku_code", "price", "attributes", "backorder_policy",
)
REQUIRED_COLUMNS = ("category_path", "product_name", "sku_code", "price")
# Optional columns: absent means "leave as stored"; for the *_attributes ones and
# backorder_policy an empty cell means the same (a new SKU then gets `deny`).
OPTIONAL_COLUMNS = ("category_description", "category_attributes", "product_description", "product_attributes",
                    "backorder_policy")



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


# The checks below are memoized: in a catalog file the same paths, names, descriptions
# and attribute texts repeat on many rows, and each is checked by the catalog's rules.
@lru_cache(maxsize=100_000)
def _name(value: str, label: str) -> str:
    return _ruled(product_name_checked, value, label)


def _description(value: Any, label: str, max_length: int) -> str:
    return _checked_description(_text(value), label, max_length)


@lru_cache(maxsize=100_000)
def _checked_description(value: str, label: str, max_length: int) -> str:
    return _ruled(description_checked, value, max_length, label)


def _attributes(value: Any, label: str, *, empty_means_none: bool) -> dict | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None if empty_means_none else {}
    if isinstance(value, str):
        return _attributes_text(value, label)
    return _ruled(attributes_checked, value, label)


@lru_cache(maxsize=100_000)
def _attributes_text(value: str, label: str) -> dict:
    """Parsed and checked attributes; callers share the returned dict and never change it."""
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):  # ValueError: also an integer of over 4,300 digits
        raise ValueError(f"{label}: Must be valid JSON.") from None
    return _ruled(attributes_checked, parsed, label)


def _price(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise ValueError("price is required with a sku_code")
    return _price_text(str(value).strip())


@lru_cache(maxsize=100_000)
def _price_text(value: str) -> Decimal:
    return _ruled(price_checked, value)


# 0 to 99999999.99 with at most 2 decimals, written plainly: `price_checked` accepts every
# such text and returns it quantized, so these skip its checks. Anything else goes there.
_PLAIN_PRICE_RE = re.compile(r"[0-9]{1,8}(?:\.[0-9]{1,2})?")
_CENT = Decimal("0.01")


def _price_fast(value: str) -> Decimal:
    text = value.strip()
    if _PLAIN_PRICE_RE.fullmatch(text):
        return Decimal(text).quantize(_CENT)
    return _price(value)


def _backorder_policy(value: Any) -> str | None:
    """`backorder_policy` by `catalog.rules.backorder_policy_checked`; an empty cell is None (as stored)."""
    text = _text(value) if value is None or isinstance(value, str) else None
    if text is None:
        raise ValueError("backorder_policy must be text")
    return _ruled(backorder_policy_checked, text) if text else None


@lru_cache(maxsize=100_000)
def _category_path(raw: str) -> tuple[str, ...]:
    if not raw:
        raise ValueError("category_path is empty")
    return tuple(_category_name(part.strip()) for part in raw.split(PATH_SEPARATOR))


def _category_name(value: str) -> str:
    try:
        return category_name_checked(value, "category name")
    except InvalidInput as exc:
        raise ValueError(f"{exc.message} in category_path") from None


def catalog_row_check(line: int, record: Any) -> CatalogRow:
    """Turn one raw record into a `CatalogRow` or raise `ValueError` listing its faults."""
    if not isinstance(record, dict):
        raise ValueError("must be an object")
    if record.get("__extra__"):
        raise ValueError("has more cells than the header")
    faults: list[str] = []

    def attempt(check: Callable[[], Any]) -> Any:
        try:
            return check()
        except ValueError as exc:
            faults.append(str(exc))
            return None

    row = CatalogRow(line=line, category_path=attempt(lambda: _category_path(_text(record.get("category_path")))) or ())
    if "category_description" in record:
        row.category_description = attempt(
            lambda: _description(record["category_description"], "category_description", CATEGORY_DESCRIPTION_MAX_LENGTH)
        )
    row.category_attributes = attempt(
        lambda: _attributes(record.get("category_attributes"), "category_attributes", empty_means_none=True)
    )
    product_name = attempt(lambda: _text(record.get("product_name")))
    sku_code = attempt(lambda: _text(record.get("sku_code")))
    if product_name:
        row.product_name = attempt(lambda: _name(product_name, "product_name"))
        if "product_description" in record:
            row.product_description = attempt(
                lambda: _description(record["product_description"], "product_description", PRODUCT_DESCRIPTION_MAX_LENGTH)
            )
        row.product_attributes = attempt(
            lambda: _attributes(record.get("product_attributes"), "product_attributes", empty_means_none=True)
        )
    if sku_code:
        if not product_name:
            faults.append("product_name is empty")
        attempt(lambda: _sku_code(sku_code))
        row.sku_code = sku_code
        row.price = attempt(lambda: _price(record.get("price")))
        row.attributes = attempt(lambda: _attributes(record.get("attributes"), "attributes", empty_means_none=False))
        row.backorder_policy = attempt(lambda: _backorder_policy(record.get("backorder_policy")))
    else:
        if str(record.get("price") or "").strip():
            faults.append("price is given without a sku_code")
        if str(record.get("backorder_policy") or "").strip():
            faults.append("backorder_policy is given without a sku_code")
    if faults:
        raise ValueError("; ".join(faults))
    return row


class _RowChecker:
    """`catalog_row_check` for many rows, with the same results and messages, faster.

    A catalog file repeats the same paths, names, descriptions, attribute texts and prices
    on many rows. Each distinct cell text (a str, or None for a missing cell) is checked
    once, by the same helpers `catalog_row_check` calls, and the result is reused. A row
    the fast path finds any fault in (or a cell that is not text, from JSON) is handed to
    `catalog_row_check` itself, which then reports every fault of the row.
    """

    def __init__(self) -> None:
        self.paths: dict[str | None, tuple[str, ...]] = {}
        self.category_descriptions: dict[str | None, str] = {}
        self.category_attributes: dict[str | None, dict | None] = {}
        self.product_names: dict[str | None, str] = {}  # "" for an empty cell
        self.product_descriptions: dict[str | None, str] = {}
        self.product_attributes: dict[str | None, dict | None] = {}
        self.prices: dict[str, Decimal] = {}
        self.attributes: dict[str | None, dict] = {}
        self.backorder_policies: dict[str | None, str | None] = {}

    def check(self, line: int, record: Any) -> CatalogRow:
        try:
            row = self._fast(line, record)
        except (ValueError, TypeError):  # TypeError: an unhashable (JSON) cell
            row = None
        return row if row is not None else catalog_row_check(line, record)

    @staticmethod
    def _cached(cache: dict, raw: Any, compute: Callable[[Any], Any]) -> Any:
        if raw is not None and type(raw) is not str:
            raise ValueError("not text: checked by catalog_row_check")
        value = cache[raw] = compute(raw)
        return value

    def _fast(self, line: int, record: Any) -> CatalogRow | None:
        """The checked row, or None (or ValueError) when `catalog_row_check` must decide."""
        if type(record) is not dict or "__extra__" in record:
            return None
        get = record.get
        cached = self._cached
        raw = get("category_path")
        path = self.paths.get(raw)
        if path is None:
            path = cached(self.paths, raw, lambda v: _category_path(_text(v)))
        row = CatalogRow(line=line, category_path=path)
        if "category_description" in record:
            raw = record["category_description"]
            value = self.category_descriptions.get(raw)
            if value is None:
                value = cached(self.category_descriptions, raw,
                               lambda v: _description(v, "category_description", CATEGORY_DESCRIPTION_MAX_LENGTH))
            row.category_description = value
        raw = get("category_attributes")
        value = self.category_attributes.get(raw, _MISSING)
        if value is _MISSING:
            value = cached(self.category_attributes, raw,
                           lambda v: _attributes(v, "category_attributes", empty_means_none=True))
        row.category_attributes = value
        raw = get("product_name")
        product_name = self.product_names.get(raw)
        if product_name is None:
            product_name = cached(self.product_names, raw,
                                  lambda v: _name(t, "product_name") if (t := _text(v)) else "")
        raw = get("sku_code")
        if raw is None:
            sku_code = ""
        elif type(raw) is str:
            sku_code = raw.strip()
        else:
            return None
        if product_name:
            row.product_name = product_name
            if "product_description" in record:
                raw = record["product_description"]
                value = self.product_descriptions.get(raw)
                if value is None:
                    value = cached(self.product_descriptions, raw,
                                   lambda v: _description(v, "product_description", PRODUCT_DESCRIPTION_MAX_LENGTH))
                row.product_description = value
            raw = get("product_attributes")
            value = self.product_attributes.get(raw, _MISSING)
            if value is _MISSING:
                value = cached(self.product_attributes, raw,
                               lambda v: _attributes(v, "product_attributes", empty_means_none=True))
            row.product_attributes = value
        if sku_code:
            if not product_name or not _SKU_CODE_FAST_RE.match(sku_code):
                return None
            row.sku_code = sku_code
            raw = get("price")
            value = self.prices.get(raw)
            if value is None:
                if type(raw) is not str:
                    return None
                value = cached(self.prices, raw, _price_fast)
            row.price = value
            raw = get("attributes")
            value = self.attributes.get(raw)
            if value is None:
                value = cached(self.attributes, raw,
                               lambda v: _attributes(v, "attributes", empty_means_none=False))
            row.attributes = value
            raw = get("backorder_policy")
            value = self.backorder_policies.get(raw, _MISSING)
            if value is _MISSING:
                value = cached(self.backorder_policies, raw, _backorder_policy)
            row.backorder_policy = value
        else:
            for name in ("price", "backorder_policy"):
                raw = get(name)
                if raw is not None and (type(raw) is not str or raw.strip()):
                    return None  # a price or policy without a sku_code (or not text)
        return row


_MISSING = object()
# Codes `sku_code_checked` accepts (its pattern): the fast path's shortcut; any other code
# goes to `catalog_row_check`, which asks the rule itself.
_SKU_CODE_FAST_RE = re.compile(SKU_CODE_PATTERN)


@lru_cache(maxsize=100_000)
def _sku_code(value: str) -> str:
    return _ruled(sku_code_checked, value)


def catalog_rows_check(
    records: Iterable[tuple[int, Any]], *, unit: str = "line", progress: Callable[[int], Any] | None = None
) -> list[CatalogRow]:
    """Check every record; raise `CatalogImportInvalid` naming every bad one, in order."""
    rows: list[CatalogRow] = []
    errors: dict[str, str] = {}
    seen_codes: dict[str, int] = {}
    check = _RowChecker().check
    done = 0
    for line, record in records:
        try:
            row = check(line, record)
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
