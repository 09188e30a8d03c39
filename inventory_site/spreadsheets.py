"""Spreadsheet-bound files (CSV, XLSX) that cannot carry a live formula (CSV injection).

A text cell a spreadsheet would run as a formula (`=1+2`, `@SUM(A1)`, `+`, `-`, a leading
tab or carriage return) is written with a leading `'`, as OWASP's CSV injection guidance
says; a cell already starting with `'` gets one too, so that reading strips exactly one
and gives back the original text byte for byte. XLSX cells are written as text, never
as formulas, and need no prefix.
"""
from io import BytesIO
from typing import Any

from import_export.formats.base_formats import CSV, XLSX
from openpyxl import load_workbook

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
    """django-import-export's CSV, escaping formula cells on export and reading them back on import."""

    def export_data(self, dataset, **kwargs):
        _map_cells(dataset, csv_cell_escaped)
        return super().export_data(dataset, **kwargs)

    def create_dataset(self, in_stream, **kwargs):
        dataset = super().create_dataset(in_stream, **kwargs)
        _map_cells(dataset, csv_cell_unescaped)
        return dataset


class SafeXLSX(XLSX):
    """django-import-export's XLSX, with every cell stored as text or number, never as a formula."""

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
