"""Writing many new rows fast, with `COPY`.

Rows are plain dicts of column values (`attname`s), so no model instances are built; ids
come from the table's sequence beforehand when other rows must point at them. Nothing here
runs model `save()` or signals; `history_rows_insert` writes the django-simple-history rows that `save()` would have.
"""

import datetime
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection, models
from django.utils import timezone

from inventory_site.types import Actor

BATCH_SIZE = 5000


def chunks(items: list, size: int = BATCH_SIZE) -> Iterator[list]:
    """`items` in consecutive slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class RowWriter:
    """Buffers plain rows of one model and writes them in batches of one `COPY` each (no
    model instances: millions of rows stay cheap)."""

    def __init__(self, model: type[models.Model], defaults: dict[str, Any]) -> None:
        self.model = model
        self.columns = [f.attname for f in model._meta.concrete_fields]
        self.defaults = defaults
        self.json_columns = {f.attname for f in model._meta.concrete_fields if f.get_internal_type() == "JSONField"}
        self.rows: list[dict[str, Any]] = []
        self.written = 0

    def add(self, **values: Any) -> None:
        self.rows.append(values)
        if len(self.rows) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        self._copy()
        self.written += len(self.rows)
        self.rows.clear()

    def _copy(self) -> None:
        """One `COPY .. FROM STDIN` of the buffered rows, written as COPY text by hand
        (database errors raised as Django's, like `copy_text_rows`).

        The default columns are the same on every row: their text is made once. Every row
        has the keys of the first one (without "id" the database numbers the rows).
        """
        first = self.rows[0]
        given = [c for c in self.columns if c in first]
        constant = [c for c in self.columns if c not in first and c in self.defaults]
        prefix = "".join(f"{copy_cell(self.defaults[c])}\t" for c in constant)
        json_texts: dict[int, str] = {}  # rows often share one attributes dict: dump it once

        def as_json(value: Any) -> str:
            text = json_texts.get(id(value))
            if text is None:
                text = json_texts[id(value)] = copy_cell(json.dumps(value))
            return text

        cells = [(c, as_json if c in self.json_columns else copy_cell) for c in given]
        text = "".join([f"{prefix}{_TAB.join([cell(row[c]) for c, cell in cells])}\n" for row in self.rows])
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        names = ", ".join(quote(c) for c in (*constant, *given))
        with (
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            copy.write(text)


_TAB = "\t"
# COPY text format: backslash, tab, newline and carriage return are escaped; \N is NULL.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_cell(value: Any) -> str:
    """One value as a cell of COPY's text format (JSON values are dumped by the caller)."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)  # int, Decimal, float, UUID


def copy_text_rows(
    model: type[models.Model], defaults: dict[str, Any], columns: list[str], chunks: Iterable[list[str]]
) -> int:
    """PostgreSQL: one `COPY` of rows already written as COPY text.

    Each line holds the cells of `columns` (each made with `copy_cell`, or known to need no
    escaping), tab-separated and ending in a newline; every other column of `defaults`
    takes that value on every row. Returns the number of rows written; a refused row raises
    Django's `IntegrityError` (not psycopg's).
    """
    constant = [c for c in defaults if c not in columns]
    prefix = "".join(f"{copy_cell(defaults[c])}\t" for c in constant)
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in (*constant, *columns))
    written = 0
    # psycopg's own cursor runs the COPY, outside Django's error translation: a refused row
    # (a code taken meanwhile) must still raise Django's `IntegrityError`, as `execute` would.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN") as copy,
    ):
        for lines in chunks:
            copy.write(prefix + prefix.join(lines) if prefix else "".join(lines))
            written += len(lines)
    return written


def allocate_ids(model: type[models.Model], count: int) -> Iterator[int]:
    """`count` fresh primary keys, taken from the table's sequence."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return iter([row[0] for row in cursor.fetchall()])


HISTORY_COLUMNS = ("history_id", "history_date", "history_type", "history_user", "history_change_reason")


def history_rows_insert(
    model: type[models.Model],
    ids: Iterable[int],
    *,
    reason: str,
    user: Actor = None,
    history_type: str = "+",
    when: datetime.datetime | None = None,
) -> int:
    """One django-simple-history row per given row of `model`, copied from its stored values.

    Bulk writes skip `save()`, so the history would start at a row's first edit and that
    edit could be neither shown as a change nor reverted. One `INSERT .. SELECT` per batch of
    ids writes what `save()` would have recorded: "+" (created) or "~" (changed), with
    `reason` as the change reason. Returns the number of history rows written.
    """
    historical = model.history.model  # type: ignore[attr-defined]  # added by simple-history's HistoricalRecords
    tracked = [f for f in historical._meta.concrete_fields if f.name not in HISTORY_COLUMNS]
    quote = connection.ops.quote_name
    target = ", ".join(quote(f.column) for f in tracked)
    # The stubs allow a reverse relation or no column here; a tracked field is a concrete column.
    source = ", ".join(quote(model._meta.get_field(f.name).column) for f in tracked)  # type: ignore[union-attr,arg-type]
    history_columns = ", ".join(quote(historical._meta.get_field(name).column) for name in HISTORY_COLUMNS[1:])
    stamp = connection.ops.adapt_datetimefield_value(when or timezone.now())
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    ids = list(ids)
    pk_column: str = model._meta.pk.column  # type: ignore[assignment]  # a table's pk has a column
    written = 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), BATCH_SIZE):
            batch = ids[start : start + BATCH_SIZE]
            marks = ", ".join(["%s"] * len(batch))
            cursor.execute(
                f"INSERT INTO {quote(historical._meta.db_table)} ({target}, {history_columns}) "
                f"SELECT {source}, %s, %s, %s, %s FROM {quote(model._meta.db_table)} "
                f"WHERE {quote(pk_column)} IN ({marks})",
                [stamp, history_type, user_id, reason, *batch],
            )
            written += cursor.rowcount
    return written
