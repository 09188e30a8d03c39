"""Reading a catalog file: `(line, record)` pairs from CSV or JSON, for `rows` to check."""

import csv
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from catalog.services.imports.rows import REQUIRED_COLUMNS
from inventory_site.exceptions import InvalidInput
from inventory_site.spreadsheets import csv_cell_unescaped

# Numbers in a JSON file longer than Python turns into an int (4,300 digits) are read as
# Decimal, so the row's check reports them instead of the JSON reader failing.
_JSON_INT_MAX_DIGITS = 4000


def catalog_file_records(path: str | Path) -> tuple[str, Iterator[tuple[int, dict]]]:
    """Open a `.csv` or `.json` file and return its kind and `(line, record)` pairs.

    CSV line numbers count the header as line 1; a JSON file is a list of objects and
    its "line" is the object's position (1-based), which is its line in an exported file
    minus one.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "line", _csv_records(path)
    if suffix == ".json":
        return "row", _json_records(path)
    raise InvalidInput(f"{path.name}: use a .csv or .json file.")


def _csv_records(path: Path) -> Iterator[tuple[int, dict]]:
    """`(first line, record)` per CSV record, skipping blank ones.

    A plain `csv.reader` with `dict(zip())` (DictReader costs several times more per row);
    cells missing at the end of a short row are None, as DictReader gives them.
    """
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [csv_cell_unescaped(cell) for cell in next(reader, None) or []]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise InvalidInput(f"line 1: missing column(s) {', '.join(missing)}.")
        width = len(header)
        start = reader.line_num + 1
        for row in reader:
            cells = len(row)
            # Blank: no cell (an empty line) or only whitespace in the header's columns.
            if not "".join(row[:width] if cells > width else row).strip():
                start = reader.line_num + 1
                continue
            record = dict(zip(header, map(csv_cell_unescaped, row), strict=False))
            if cells > width:
                record["__extra__"] = True
            elif cells < width:
                for name in header[cells:]:
                    record[name] = None
            yield start, record
            start = reader.line_num + 1


def _json_int(text: str) -> int | Decimal:
    return int(text) if len(text) <= _JSON_INT_MAX_DIGITS else Decimal(text)


def _json_records(path: Path) -> Iterator[tuple[int, dict]]:
    with path.open(encoding="utf-8-sig") as handle:
        try:
            data = json.load(handle, parse_int=_json_int)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"line {exc.lineno}: not valid JSON ({exc.msg}).") from exc
        except RecursionError:
            raise InvalidInput("Not valid JSON: nested too deep.") from None
    if not isinstance(data, list):
        raise InvalidInput("The JSON file must hold a list of objects.")
    yield from enumerate(data, start=1)
