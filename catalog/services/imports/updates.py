"""Writing changed values into existing rows in bulk, adding 1 to their version."""

import json
from collections.abc import Callable
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model
from django.utils import timezone

from catalog.services.bulk_rows import chunks


def rows_update(
    model: type[Model], objs: list, fields: list[str], progress: Callable[[int], Any] | None = None
) -> None:
    """Write these fields of existing rows (`objs` carry the new values), adding 1 to their version."""
    for batch in chunks(objs):
        _update_from_values(model, batch, fields)
        if progress:
            progress(len(batch))


def _update_from_values(model: type[Model], batch: list, fields: list[str]) -> None:
    """One `UPDATE .. FROM (VALUES ..)` per batch; the UPDATE takes the row locks
    and moves `version` itself, so concurrent writers are serialized by the database."""
    quote = connection.ops.quote_name
    columns = [cast(Field, model._meta.get_field(name)) for name in fields]  # concrete columns, no relations
    names = ["id", *(f"v{i}" for i in range(len(columns)))]
    casts = ["bigint", *(column.db_type(connection) for column in columns)]
    is_json = [column.get_internal_type() == "JSONField" for column in columns]
    row_sql = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    params = []
    for obj in batch:
        params.append(obj.pk)
        for column, as_json in zip(columns, is_json, strict=True):
            value = getattr(obj, column.attname)
            params.append(json.dumps(value) if as_json else value)
    rows = [row_sql] * len(batch)
    assignments = ", ".join(f"{quote(cast(str, column.column))} = v.v{i}" for i, column in enumerate(columns))
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET {assignments}, version = t.version + 1, updated_at = %s "
            f"FROM (VALUES {', '.join(rows)}) AS v({', '.join(names)}) WHERE t.id = v.id",
            [timezone.now(), *params],
        )
