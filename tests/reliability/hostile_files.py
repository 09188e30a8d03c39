"""Hostile spreadsheets, built small: a sheet that expands to hundreds of MB, one cell of
100 MB, a million rows, a declared dimension of 16,384 columns, a NUL in a cell.

Each is a real XLSX (a zip that openpyxl opens) written by streaming its sheet XML into the
zip, so building one costs seconds and little memory."""

import io
import zipfile
from collections.abc import Iterable, Iterator
from xml.sax.saxutils import escape

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dimension}<sheetData>'
)
SHEET_TAIL = "</sheetData></worksheet>"


def _column(number: int) -> str:
    name = ""
    while number:
        number, rest = divmod(number - 1, 26)
        name = chr(65 + rest) + name
    return name


def _row_xml(line: int, values: Iterable) -> str:
    cells = []
    for col, value in enumerate(values, start=1):
        ref = f"{_column(col)}{line}"
        if isinstance(value, int):
            cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        else:
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>')
    return f'<row r="{line}">{"".join(cells)}</row>'


def _unnumbered(values: Iterable) -> str:
    """A row without `r` references (readers count rows and cells themselves): every copy is the
    same bytes, so a million of them compress to almost nothing."""
    cells = "".join(
        f"<c><v>{v}</v></c>" if isinstance(v, int) else f'<c t="inlineStr"><is><t>{escape(v)}</t></is></c>'
        for v in values
    )
    return f"<row>{cells}</row>"


def xlsx_repeated(header: list, row: list, count: int) -> bytes:
    """A workbook of `header` and `count` copies of `row`, written a block at a time."""
    block = (_unnumbered(row) * 1000).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as book:
        for name, text in (
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", ROOT_RELS),
            ("xl/workbook.xml", WORKBOOK),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
        ):
            book.writestr(name, text)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write((SHEET_HEAD.format(dimension="") + _unnumbered(header)).encode())
            for _ in range(count // 1000):
                sheet.write(block)
            sheet.write((_unnumbered(row) * (count % 1000) + SHEET_TAIL).encode())
    return out.getvalue()


def xlsx(rows: Iterable[Iterable], *, dimension: str = "") -> bytes:
    """A workbook whose first sheet holds `rows` (an iterator is streamed, never held)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr("xl/workbook.xml", WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(SHEET_HEAD.format(dimension=f'<dimension ref="{dimension}"/>' if dimension else "").encode())
            buffer = []
            for line, values in enumerate(rows, start=1):
                buffer.append(_row_xml(line, values))
                if len(buffer) >= 2000:
                    sheet.write("".join(buffer).encode())
                    buffer = []
            sheet.write(("".join(buffer) + SHEET_TAIL).encode())
    return out.getvalue()


def _count_rows(header: list, count: int, width: int = 0) -> Iterator[list]:
    yield header
    for number in range(count):
        yield [f"SKU-{number:07d}", number % 50] + ["x" * 40] * width


def expanding_sheet(megabytes: int = 300) -> bytes:
    """A sheet of repeated wide rows that expands to about `megabytes` MB (about 1 MB as sent)."""
    row = ["A" * 900] * 16
    return xlsx_repeated(
        ["sku_code", "counted", "change", "name"], row, megabytes * 1024 * 1024 // len(_unnumbered(row))
    )


def huge_cell(megabytes: int = 100) -> bytes:
    """A count sheet whose second line holds one cell of `megabytes` MB."""
    return xlsx([["sku_code", "counted", "change"], ["x" * (megabytes * 1024 * 1024), 1, 1]])


def million_rows(count: int = 1_000_000) -> bytes:
    """A count sheet of `count` short lines (a few MB as sent)."""
    return xlsx_repeated(["sku_code", "counted", "change", "name"], [1, 1], count)


def million_rows_csv(count: int = 1_000_000) -> bytes:
    return b"sku_code,counted\n" + b"S,1\n" * count


def wide_dimension() -> bytes:
    """A two-line sheet that declares 16,384 columns and a million rows (readers that pad rows
    to the declared dimension build a billion cells)."""
    return xlsx([["sku_code", "counted"], ["SKU-1", 1]], dimension="A1:XFD1048576")


def nul_cell_xlsx() -> bytes:
    """A NUL written as the spreadsheet escape `_x0000_` (XML itself cannot carry one)."""
    return xlsx([["sku_code", "counted", "change", "name"], ["SKU_x0000_-1", 1, 1, "N_x0000_"]])


def nul_cell_csv() -> bytes:
    return b"sku_code,counted,change,name\nSKU\x00-1,1,1,N\x00\n"
