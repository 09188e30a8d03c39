"""Cycle counts: set on-hand quantities from a count sheet, each difference one `count` movement.

The sheet is checked as a whole first (unknown SKUs and warehouses, bad numbers,
repeated lines, counts below what is reserved), naming every bad line; then all
lines go through `stock_adjust_bulk` as counts (`quantity=`), which locks the levels
in order, re-checks them and writes nothing unless every line passes.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from django.db import transaction
from django.db.models.functions import Lower

from catalog.models import SKU
from catalog.rules import sku_code_key
from inventory_site.exceptions import DomainError, InvalidInput
from inventory_site.spreadsheets import MB, SheetLimits, SheetRefused, csv_rows
from inventory_site.types import Actor
from stock.models import MovementReason, StockLevel, Warehouse
from stock.selectors import warehouse_by_code, warehouse_default, with_effective_quantities
from stock.services.ledger import MAX_QUANTITY, quantity_check
from stock.services.levels import stock_adjust_bulk

LOOKUP_BATCH = 5000
ADJUST_CHUNK = 500
# A count file is read whole before it is checked: bounded (a CSV is its own uncompressed size).
COUNT_FILE_LIMITS = SheetLimits(rows=200_000, cells_per_row=16, cell_bytes=10_000, total_bytes=64 * MB)


class StockCountInvalid(InvalidInput):
    """Some lines of a count sheet are invalid; `errors` maps `"line N"` to its reason."""


@dataclass
class CountLine:
    """One line of a count sheet, as read."""

    line: int
    sku_code: str
    counted: str
    warehouse_code: str = ""


@dataclass
class StockCountResult:
    """What a count did (or, dry run, would do)."""

    lines: int = 0
    changed: int = 0
    unchanged: int = 0
    units_added: int = 0
    units_removed: int = 0
    dry_run: bool = False
    differences: list[tuple[int, str, str, int, int]] = field(default_factory=list)  # line, sku, wh, old, new


def stock_count_file_lines(path: str | Path) -> Iterator[CountLine]:
    """Read a CSV count sheet with the columns sku_code, counted and optionally warehouse, within
    `COUNT_FILE_LIMITS` (`InvalidInput` names the limit or the line at fault, NUL included)."""
    path = Path(path)
    if path.stat().st_size > COUNT_FILE_LIMITS.total_bytes:
        raise InvalidInput(
            f"the file is larger than {COUNT_FILE_LIMITS.total_bytes // MB} MB; {COUNT_FILE_LIMITS.describe()}."
        )
    with path.open(newline="", encoding="utf-8-sig") as handle:
        try:
            rows = csv_rows(handle, COUNT_FILE_LIMITS)
            header = [name.strip() for name in next(rows, [])]
            missing = [c for c in ("sku_code", "counted") if c not in header]
            if missing:
                raise InvalidInput(f"line 1: missing column(s) {', '.join(missing)}.")
            for line, values in enumerate(rows, start=2):
                record = dict(zip(header, values, strict=False))
                if any(value.strip() for value in values):
                    yield CountLine(
                        line=line,
                        sku_code=record.get("sku_code", "").strip(),
                        counted=record.get("counted", "").strip(),
                        warehouse_code=record.get("warehouse", "").strip().upper(),
                    )
        except SheetRefused as exc:
            raise InvalidInput(str(exc)) from None


def _lookup_skus(codes: list[str]) -> dict[str, SKU]:
    found: dict[str, SKU] = {}
    for start in range(0, len(codes), LOOKUP_BATCH):
        batch = codes[start : start + LOOKUP_BATCH]
        for sku in SKU.all_objects.annotate(code_ci=Lower("sku_code")).filter(code_ci__in=batch):
            found[sku.sku_code.lower()] = sku
    return found


def _current_levels(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], StockLevel]:
    levels: dict[tuple[int, int], StockLevel] = {}
    sku_ids = sorted({sku_id for sku_id, _ in pairs})
    for start in range(0, len(sku_ids), LOOKUP_BATCH):
        batch = StockLevel.objects.filter(sku_id__in=sku_ids[start : start + LOOKUP_BATCH])
        for level in with_effective_quantities(batch):
            levels[(level.sku_id, level.warehouse_id)] = level
    return levels


def stock_count_apply(
    *,
    lines: Iterable[CountLine],
    warehouse_code: str | None = None,
    reference: str = "",
    dry_run: bool = False,
    user: Actor = None,
    progress: Callable[[int], Any] | None = None,
) -> StockCountResult:
    """Set each line's level to its counted quantity: one `count` movement per difference, none
    when equal; all lines or none.

    A line without a warehouse uses `warehouse_code`, else the default warehouse.
    Raises `StockCountInvalid` naming every bad line (unknown or deleted SKU or warehouse,
    a count that is not a whole number in 0..2^31-1, the same SKU and warehouse twice, a
    count below the units reserved).
    """
    lines = list(lines)
    errors: dict[str, str] = {}
    warehouses = {w.code: w for w in Warehouse.all_objects.all()}
    default = warehouse_by_code(warehouse_code) if warehouse_code is not None else warehouse_default()
    skus = _lookup_skus(sorted({key for line in lines if (key := sku_code_key(line.sku_code))}))
    planned: list[tuple[CountLine, SKU, Warehouse, int]] = []
    seen: dict[tuple[int, int], int] = {}
    for line in lines:
        faults = []
        if "\x00" in line.sku_code + line.warehouse_code:  # no text column of PostgreSQL can hold one
            errors[f"line {line.line}"] = "holds a NUL character"
            continue
        sku = skus.get(sku_code_key(line.sku_code) or "")
        if not line.sku_code:
            faults.append("sku_code is empty")
        elif sku is None:
            faults.append(f"unknown sku_code {line.sku_code!r}")
        elif sku.is_deleted:
            faults.append(f"SKU {line.sku_code!r} is deleted")
        warehouse = warehouses.get(line.warehouse_code) if line.warehouse_code else default
        if warehouse is None:
            faults.append(
                f"unknown warehouse {line.warehouse_code!r}"
                if line.warehouse_code
                else "no warehouse given and there is no default warehouse"
            )
        elif warehouse.is_deleted:
            faults.append(f"warehouse {warehouse.code!r} is deleted")
        try:
            counted = quantity_check(int(line.counted), field="counted")
        except (ValueError, InvalidInput):
            faults.append(f"counted {line.counted!r} is not a whole number between 0 and {MAX_QUANTITY}")
            counted = None
        if not faults:
            assert sku is not None and warehouse is not None  # without a fault both were found
            pair = (sku.pk, warehouse.pk)
            if pair in seen:
                faults.append(f"{sku.sku_code} in {warehouse.code} was already counted on line {seen[pair]}")
            seen[pair] = line.line
        if faults:
            errors[f"line {line.line}"] = "; ".join(faults)
        else:  # (found, and counted)
            planned.append((line, cast(SKU, sku), cast(Warehouse, warehouse), cast(int, counted)))

    levels = _current_levels({(sku.pk, warehouse.pk) for _, sku, warehouse, _ in planned})
    result = StockCountResult(lines=len(lines), dry_run=dry_run)
    adjustments: list[dict] = []
    adjusted_lines: list[int] = []
    for line, sku, warehouse, counted in planned:
        level = levels.get((sku.pk, warehouse.pk))
        # Units of overdue reservations no longer count (the adjustment records their expiry).
        on_hand, reserved = (level.on_hand, level.effective_reserved) if level else (0, 0)
        if counted < reserved:
            errors[f"line {line.line}"] = (
                f"counted {counted} is below the {reserved} units of {sku.sku_code} reserved in {warehouse.code}; "
                "commit or release those reservations first"
            )
            continue
        unsellable = (level.damaged + level.quality_control) if level else 0
        if counted < reserved + unsellable:
            errors[f"line {line.line}"] = (
                f"counted {counted} is below the {reserved + unsellable} units of {sku.sku_code} in {warehouse.code} "
                f"reserved, damaged or in quality control; move or write those off first"
            )
            continue
        if counted == on_hand:
            result.unchanged += 1
            continue
        result.changed += 1
        if counted > on_hand:
            result.units_added += counted - on_hand
        else:
            result.units_removed += on_hand - counted
        result.differences.append((line.line, sku.sku_code, warehouse.code, on_hand, counted))
        adjustments.append(
            {
                "sku": sku,
                "warehouse": warehouse,
                "quantity": counted,
                "expected_on_hand": on_hand,
                "reason": MovementReason.COUNT,
                "reference": reference,
                "note": f"Cycle count, line {line.line}",
            }
        )
        adjusted_lines.append(line.line)
    if errors:
        raise StockCountInvalid(
            f"{len(errors)} invalid line(s); nothing was changed.",
            errors=dict(sorted(errors.items(), key=lambda item: int(item[0].split()[1]))),
        )
    if dry_run or not adjustments:
        return result
    # The chunks share one transaction: in the one lock order across chunks, not only within
    # each (a sheet lists SKUs in any order; a later chunk must not lock a level before an earlier one's).
    order = sorted(range(len(adjustments)), key=lambda i: (adjustments[i]["sku"].pk, adjustments[i]["warehouse"].pk))
    adjustments = [adjustments[i] for i in order]
    adjusted_lines = [adjusted_lines[i] for i in order]
    with transaction.atomic():  # all chunks or none
        for start in range(0, len(adjustments), ADJUST_CHUNK):
            chunk = adjustments[start : start + ADJUST_CHUNK]
            try:
                stock_adjust_bulk(lines=chunk, user=user)
            except DomainError as exc:
                # Stock moved between the check above and the locked re-check: name the lines.
                refused = (exc.errors or {}).get("lines", {})
                raise StockCountInvalid(
                    f"Stock changed while counting; nothing was changed ({exc.message})",
                    errors={f"line {adjusted_lines[start + int(i)]}": detail for i, detail in refused.items()},
                ) from exc
            if progress:
                progress(len(chunk))
    return result
