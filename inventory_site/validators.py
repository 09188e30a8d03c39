"""Validators shared by the API serializers, the admin forms and the import commands.

They raise Django's `ValidationError`, which DRF serializer fields and Django forms both
turn into a field error, so every entry point enforces the same rules.
"""

import json
import re

from django.core.exceptions import ValidationError

MAX_ATTRIBUTES_BYTES = 16 * 1024
MAX_ATTRIBUTES_DEPTH = 5
PATH_SEPARATOR = "/"


# Unicode category Cc is exactly U+0000-U+001F and U+007F-U+009F; one regex scan is
# several times cheaper than asking unicodedata about every character (imports check
# hundreds of thousands of strings).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_EXCEPT_NEWLINES_AND_TABS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _has_control_characters(value: str, *, allow_newlines: bool = False) -> bool:
    pattern = _CONTROL_EXCEPT_NEWLINES_AND_TABS if allow_newlines else _CONTROL
    return pattern.search(value) is not None


def validate_name(value: str) -> None:
    """A display name: not empty or whitespace only, no control characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("Must not be empty or whitespace only.", code="blank")
    if _has_control_characters(value):
        raise ValidationError("Must not contain control characters.", code="control_characters")


def validate_category_name(value: str) -> None:
    """A category name: a valid name without '/', which separates the names in `path`."""
    validate_name(value)
    if PATH_SEPARATOR in value:
        raise ValidationError("Must not contain '/': it separates the names in a category path.", code="path_separator")


def validate_text(value: str) -> None:
    """Free text (descriptions): newlines and tabs are fine, other control characters are not."""
    if _has_control_characters(value, allow_newlines=True):
        raise ValidationError("Must not contain control characters.", code="control_characters")


def _depth_and_check(value: object, depth: int) -> int:
    """Nesting depth of `value` (an object or list counts one level), refusing NUL characters.

    Stops descending past the limit so a hostile document cannot exhaust the stack.
    """
    if isinstance(value, str):
        if "\x00" in value:
            raise ValidationError("Must not contain NUL characters.", code="nul")
        return depth
    if depth > MAX_ATTRIBUTES_DEPTH:
        return depth
    if isinstance(value, dict):
        deepest = depth + 1
        for key, item in value.items():
            _depth_and_check(key, depth)
            deepest = max(deepest, _depth_and_check(item, depth + 1))
        return deepest
    if isinstance(value, list):
        return max([depth + 1, *(_depth_and_check(item, depth + 1) for item in value)])
    return depth


def validate_attributes(value: object) -> None:
    """`attributes`: a JSON object, at most 16 KiB serialized and nested at most 5 deep.

    `{"a": 1}` is depth 1, `{"a": {"b": 1}}` depth 2; a list inside counts as a level.
    """
    if not isinstance(value, dict):
        raise ValidationError("Must be a JSON object.", code="not_object")
    if _depth_and_check(value, 0) > MAX_ATTRIBUTES_DEPTH:
        raise ValidationError(f"Must be nested at most {MAX_ATTRIBUTES_DEPTH} levels deep.", code="too_deep")
    try:
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise ValidationError("Must be valid JSON.", code="invalid") from exc
    if size > MAX_ATTRIBUTES_BYTES:
        raise ValidationError(
            f"Must be at most {MAX_ATTRIBUTES_BYTES // 1024} KiB serialized (got {size} bytes).", code="too_large"
        )
