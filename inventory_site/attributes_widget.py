"""The `attributes` editor of the admin: a key/value table, with the raw JSON a click away.

The table posts its rows as `<name>__key` / `<name>__value` lists; the raw JSON posts as
`<name>` with `<name>__mode=raw`. Either way the form receives a dict (or the raw text)
and the services check it with their rules (`attributes_checked`); this only reads shape.

A value cell is JSON when it reads as JSON (`12`, `true`, `null`, `{"a": 1}`, `"42"`),
otherwise the text as typed: `red` is the string "red". A string that would read as JSON
is shown quoted (`"42"`), so every value goes back exactly as it came.
"""

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

RAW_MODE = "raw"


class AttributePairs(dict):
    """The dict the key/value rows make, with the problems of rows that make no pair."""

    def __init__(self, *args, problems: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.problems = problems or []


def cell_value(text: str) -> Any:
    """A value cell as stored: its JSON when it reads as JSON, else the text itself."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def cell_text(value: Any) -> str:
    """A stored value as its cell shows it (the inverse of `cell_value`)."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except (ValueError, RecursionError):
            return value
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def pairs_from_rows(keys: list[str], values: list[str]) -> AttributePairs:
    """The rows of the table as a dict; a value without a name or a name used twice is a problem."""
    pairs, problems = AttributePairs(), []
    # The two lists come from a form post: a tampered one may be shorter, and its extra rows are dropped.
    for number, (key, text) in enumerate(zip(keys, values, strict=False), start=1):
        key = key.strip()
        if not key:
            if text.strip():
                problems.append(f"Row {number}: the value {text.strip()!r} needs a name.")
            continue
        if key in pairs:
            problems.append(f"Row {number}: the name {key!r} is used twice.")
            continue
        pairs[key] = cell_value(text)
    pairs.problems = problems
    return pairs


class AttributesWidget(forms.Widget):
    """Key/value rows for a JSON object (static/admin-ext/attributes-editor.js adds and removes
    rows), and the same value as raw JSON behind the "Raw JSON" switch (nested or odd values)."""

    extra_rows = 1

    def __init__(self, attrs=None, rows: int = 8):
        super().__init__(attrs)
        self.rows = rows

    class Media:
        css = {"all": ["admin-ext/admin-ext.css"]}
        js = ["admin-ext/json-editor.js", "admin-ext/attributes-editor.js"]

    def value_from_datadict(self, data, files, name):
        if data.get(f"{name}__mode") == RAW_MODE or f"{name}__key" not in data:
            return data.get(name)
        return pairs_from_rows(data.getlist(f"{name}__key"), data.getlist(f"{name}__value"))

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}__key" not in data

    @staticmethod
    def _as_object(value: Any) -> tuple[dict | None, str]:
        """(the object, or None when the value is not one) and the raw JSON text to show."""
        if value is None or value == "":
            return {}, "{}"
        if isinstance(value, str):
            try:
                parsed = json.loads(value)
            except (ValueError, RecursionError):
                return None, value  # what the user typed, so that the error can be fixed
            value = parsed
        text = json.dumps(value, indent=2, ensure_ascii=False)
        return (value if isinstance(value, dict) else None), text

    def render(self, name, value, attrs=None, renderer=None):
        obj, text = self._as_object(value)
        raw = obj is None
        row_html = format_html_join(
            "",
            "<tr>{}</tr>",
            ((self._row(name, key, cell_text(item)),) for key, item in (obj or {}).items()),
        )
        blank = format_html_join("", "<tr>{}</tr>", ((self._row(name, "", ""),) for _ in range(self.extra_rows)))
        element_id = (attrs or {}).get("id") or f"id_{name}"
        return format_html(
            '<div class="attributes-editor{}" data-name="{}">'
            '<table class="attribute-pairs"><thead><tr><th>Name</th><th>Value</th><th></th></tr></thead>'
            "<tbody>{}{}</tbody></table>"
            '<p class="attribute-tools"><button type="button" class="attribute-add">Add attribute</button> '
            '<label><input type="checkbox" name="{}__mode" value="{}" class="attribute-raw-toggle"{}> Raw JSON</label>'
            ' <span class="help">A value is text, or JSON: 12, true, null, {{"a": 1}}, "42".</span></p>'
            '<textarea name="{}" id="{}" class="json-editor attribute-raw" rows="{}" cols="60" spellcheck="false">'
            "\n{}</textarea></div>",
            " raw" if raw else "",
            name,
            row_html,
            blank,
            name,
            RAW_MODE,
            " checked" if raw else "",
            name,
            element_id,
            self.rows,
            text,
        )

    @staticmethod
    def _row(name: str, key: str, text: str):
        return format_html(
            '<td><input type="text" name="{}__key" value="{}" class="attribute-key" aria-label="name"></td>'
            '<td><input type="text" name="{}__value" value="{}" class="attribute-value" aria-label="value"></td>'
            '<td><button type="button" class="attribute-remove" title="Remove this attribute">&times;</button></td>',
            name,
            key,
            name,
            text,
        )


class AttributesField(forms.JSONField):
    """A JSON object edited with `AttributesWidget`: rows that make no pair are its errors."""

    widget = AttributesWidget

    def to_python(self, value):
        if isinstance(value, AttributePairs):
            if value.problems:
                raise ValidationError(value.problems, code="invalid")
            return dict(value)
        return super().to_python(value)

    def bound_data(self, data, initial):
        if isinstance(data, AttributePairs):
            return data
        return super().bound_data(data, initial)
