"""Spreadsheet-bound files (CSV, XLSX) that cannot carry a live formula (CSV injection).

A text cell a spreadsheet would run as a formula (`=1+2`, `@SUM(A1)`, `+`, `-`, a leading
tab or carriage return) is written with a leading `'`, as OWASP's CSV injection guidance
says; a cell already starting with `'` gets one too, so that reading strips exactly one
and gives back the original text byte for byte. XLSX cells are written as text, never
as formulas, and need no prefix.

Every file read here is bounded after decompression (`SheetLimits`): rows, cells per row,
bytes per cell and the total size (an XLSX is a zip: its members' declared sizes, and what
they really expand to while reading). A file over a limit is refused with `SheetRefused`,
in words, before its rows are worked on; a NUL character (which no text column of
PostgreSQL can hold) is refused the same way.
"""

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import IO, Any

from import_export.formats.base_formats import CSV, XLSX
from openpyxl import load_workbook

MB = 1024 * 1024
XLSX_MAX_MEMBERS = 1000  # a workbook of one sheet has about a dozen


@dataclass(frozen=True)
class SheetLimits:
    """The most a file may hold, counted after decompression."""

    rows: int
    cells_per_row: int
    cell_bytes: int
    total_bytes: int

    def describe(self) -> str:
        return (
            f"at most {self.rows:,} rows of {self.cells_per_row} cells, {self.cell_bytes:,} bytes a cell and "
            f"{self.total_bytes // MB} MB in all once uncompressed"
        )


# The catalog's import screens (categories, products, SKUs), in the request and on the worker.
IMPORT_LIMITS = SheetLimits(rows=100_000, cells_per_row=64, cell_bytes=10_000, total_bytes=64 * MB)


class SheetRefused(ValueError):
    """A file over one of its `SheetLimits`, damaged, or holding a NUL: `str()` says which."""


_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")


def xlsx_expanded_size(stream: IO[bytes], limits: SheetLimits) -> int:
    """The bytes the workbook's members expand to, checked against `limits.total_bytes` both as
    the zip declares them and as they really decompress (a zip bomb lies in its header); a
    sheet with more row elements than `limits.rows` is refused in the same pass, before openpyxl
    spends seconds on the first of them."""
    try:
        with zipfile.ZipFile(stream) as book:
            members = book.infolist()
            declared = sum(member.file_size for member in members)
            if len(members) > XLSX_MAX_MEMBERS or declared > limits.total_bytes:
                raise SheetRefused(f"The workbook expands to {declared // MB:,} MB; {limits.describe()}.")
            actual = 0
            for member in members:
                rows, tail = 0, b""
                sheet = member.filename.startswith("xl/worksheets/")
                with book.open(member) as content:
                    while chunk := content.read(MB):
                        actual += len(chunk)
                        if actual > limits.total_bytes:
                            raise SheetRefused(
                                f"The workbook expands to more than {limits.total_bytes // MB} MB; {limits.describe()}."
                            )
                        if sheet:  # a tag cut by the chunk's end is found with the last bytes kept
                            rows += len(_ROW_TAG.findall(tail + chunk)) - len(_ROW_TAG.findall(tail))
                            tail = chunk[-32:]
                            if rows > limits.rows + 1:  # the header line is one of them
                                raise SheetRefused(f"The file has more than {limits.rows:,} rows; {limits.describe()}.")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise SheetRefused("The file could not be read as an XLSX workbook.") from exc
    finally:
        stream.seek(0)
    return actual


def _checked_cell(value: Any, limits: SheetLimits, line: int) -> Any:
    if isinstance(value, str):
        if "\x00" in value:
            raise SheetRefused(f"Line {line} holds a NUL character, which no text can contain.")
        if len(value) * 4 > limits.cell_bytes and len(value.encode("utf-8", "surrogatepass")) > limits.cell_bytes:
            raise SheetRefused(f"Line {line} has a cell of more than {limits.cell_bytes:,} bytes; {limits.describe()}.")
    return value


def _checked_row(values: list, limits: SheetLimits, line: int) -> list:
    if line > limits.rows:
        raise SheetRefused(f"The file has more than {limits.rows:,} rows; {limits.describe()}.")
    if len(values) > limits.cells_per_row:
        raise SheetRefused(f"Line {line} has more than {limits.cells_per_row} cells; {limits.describe()}.")
    return [_checked_cell(value, limits, line) for value in values]


def xlsx_rows(stream: IO[bytes], limits: SheetLimits) -> Iterator[list[Any]]:
    """The rows of the first sheet of a workbook, streamed (openpyxl's read-only mode), each
    checked against `limits`; the container is checked before openpyxl reads a byte of it."""
    xlsx_expanded_size(stream, limits)
    try:
        book = load_workbook(stream, read_only=True, data_only=True)
        sheet = book.worksheets[0]
    except SheetRefused:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise SheetRefused("The file could not be read as an XLSX workbook.") from exc
    try:
        # The declared dimension (A1:XFD1048576 costs nothing to write) would pad every row to
        # its width: count the cells that are there instead, and refuse a row that is too wide
        # before openpyxl builds it.
        sheet.reset_dimensions()
        build_row = sheet._get_row

        def bounded_row(row, min_col=1, max_col=None, values_only=False):
            if row and max(cell["column"] for cell in row) > limits.cells_per_row:
                raise SheetRefused(f"A row has more than {limits.cells_per_row} cells; {limits.describe()}.")
            return build_row(row, min_col, max_col, values_only)

        sheet._get_row = bounded_row
        for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield _checked_row(list(values), limits, line)
    except SheetRefused:
        raise
    except Exception as exc:
        raise SheetRefused("The file could not be read as an XLSX workbook.") from exc
    finally:
        book.close()


def csv_rows(text: IO[str], limits: SheetLimits) -> Iterator[list[str]]:
    """The rows of a CSV text stream, each checked against `limits` (a cell over the csv
    module's own field limit is refused as too large)."""
    reader = csv.reader(text)
    line = 0
    try:
        for line, values in enumerate(reader, start=1):
            yield _checked_row(values, limits, line)
    except csv.Error as exc:
        if "NUL" in str(exc):
            raise SheetRefused(f"Line {line + 1} holds a NUL character, which no text can contain.") from exc
        if "field larger than field limit" in str(exc):
            raise SheetRefused(
                f"Line {line + 1} has a cell of more than {limits.cell_bytes:,} bytes; {limits.describe()}."
            ) from exc
        raise SheetRefused(f"Line {line + 1} is not valid CSV ({exc}).") from exc


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
_ESCAPED_STARTS = (*FORMULA_STARTS, ESCAPE)


def csv_cell_escaped(value: Any) -> Any:
    """The cell as a CSV export writes it: text a spreadsheet would run is prefixed with `'`."""
    if isinstance(value, str) and value.startswith(_ESCAPED_STARTS):
        return ESCAPE + value
    return value


def csv_cell_unescaped(value: Any) -> Any:
    """The original text of a cell `csv_cell_escaped` wrote. Other cells are unchanged, also a
    hand-written `'abc` (only a `'` before a character that is escaped is taken off)."""
    if isinstance(value, str) and value.startswith(ESCAPE) and value[1:2].startswith(_ESCAPED_STARTS):
        return value[1:]
    return value


def _map_cells(dataset, cell) -> None:
    rows = [[cell(value) for value in row] for row in dataset]
    del dataset[:]  # keeps the headers
    for row in rows:
        dataset.append(row)


class SafeCSV(CSV):
    """django-import-export's CSV, escaping formula cells on export and reading them back on
    import; an import is read within `limits` first (`SheetRefused` when over)."""

    limits = IMPORT_LIMITS

    def export_data(self, dataset, **kwargs):
        _map_cells(dataset, csv_cell_escaped)
        return super().export_data(dataset, **kwargs)

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes):
            if len(in_stream) > self.limits.total_bytes:
                raise SheetRefused(
                    f"The file is larger than {self.limits.total_bytes // MB} MB; {self.limits.describe()}."
                )
            try:
                in_stream = in_stream.decode(self.encoding or "utf-8-sig")
            except UnicodeDecodeError as exc:
                raise SheetRefused(f"The file is not {self.encoding or 'UTF-8'} text.") from exc
        if len(in_stream) > self.limits.total_bytes:
            raise SheetRefused(f"The file is larger than {self.limits.total_bytes // MB} MB; {self.limits.describe()}.")
        for _row in csv_rows(io.StringIO(in_stream, newline=""), self.limits):
            pass
        dataset = super().create_dataset(in_stream, **kwargs)
        _map_cells(dataset, csv_cell_unescaped)
        return dataset


class SafeXLSX(XLSX):
    """django-import-export's XLSX, with every cell stored as text or number, never as a
    formula; an import is streamed within `limits` (`SheetRefused` when over)."""

    limits = IMPORT_LIMITS

    def create_dataset(self, in_stream):
        import tablib

        rows = xlsx_rows(BytesIO(in_stream), self.limits)
        dataset = tablib.Dataset()
        dataset.headers = next(rows, [])
        width = len(dataset.headers)
        for line, values in enumerate(rows, start=2):
            if any(value not in (None, "") for value in values[width:]):
                raise SheetRefused(f"Line {line} has more cells than the first line names columns.")
            dataset.append((values + [None] * width)[:width])
        return dataset

    def export_data(self, dataset, **kwargs):
        # tablib (through openpyxl) stores any text starting with "=" as a formula: every
        # formula cell of this sheet is text of ours, so store it as text again.
        book = load_workbook(BytesIO(super().export_data(dataset, **kwargs)))
        for row in book.active.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
        stream = BytesIO()
        book.save(stream)
        return stream.getvalue()
