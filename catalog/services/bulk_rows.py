"""Writing many new rows fast: `COPY` on PostgreSQL, `bulk_create` elsewhere.

Rows are plain dicts of column values (`attname`s), so no model instances are built on
the fast path; ids come from the table's sequence beforehand when other rows must point
at them. Nothing here runs model `save()`, signals or django-simple-history.
"""
import json
from collections.abc import Iterator
from typing import Any

from django.db import connection

BATCH_SIZE = 5000


class RowWriter:
    """Buffers plain rows of one model and writes them in batches: `COPY` on PostgreSQL
    (no model instances, the fast path for millions of rows), `bulk_create` elsewhere."""

    def __init__(self, model, defaults: dict[str, Any]):
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
        rows = [{**self.defaults, **row} for row in self.rows]
        columns = [c for c in self.columns if c in rows[0]]  # without "id" the database numbers the rows
        if connection.vendor == "postgresql":
            table = connection.ops.quote_name(self.model._meta.db_table)
            names = ", ".join(connection.ops.quote_name(c) for c in columns)
            json_texts: dict[int, str] = {}  # rows often share one attributes dict: dump it once

            def as_json(value: Any) -> str:
                text = json_texts.get(id(value))
                if text is None:
                    text = json_texts[id(value)] = json.dumps(value)
                return text

            json_at = [c in self.json_columns for c in columns]
            with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([
                        as_json(row[c]) if is_json else row[c] for c, is_json in zip(columns, json_at)
                    ])
        else:
            self.model._base_manager.bulk_create([self.model(**row) for row in rows], batch_size=BATCH_SIZE)
        self.written += len(rows)
        self.rows.clear()


def allocate_ids(model, count: int) -> Iterator[int]:
    """`count` fresh primary keys: from the sequence on PostgreSQL; past the largest id elsewhere
    (SQLite writers are serialized, so nobody else takes them meanwhile)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            ids = [row[0] for row in cursor.fetchall()]
            return iter(ids)
        cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(table)}")
        top = cursor.fetchone()[0] or 0
    return iter(range(top + 1, top + count + 1))
