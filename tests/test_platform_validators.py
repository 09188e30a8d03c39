"""The shared input validators (API serializers, admin forms and imports use them)."""

import pytest
from django.core.exceptions import ValidationError

from inventory_site.validators import validate_attributes, validate_category_name, validate_name, validate_text


def nested(depth: int) -> dict:
    value: object = 1
    for _ in range(depth):
        value = {"k": value}
    return value


@pytest.mark.parametrize("value", [{}, {"a": 1}, nested(5), {"list": [1, {"a": [2]}]}, {"x": "y" * 16000}])
def test_attributes_accepted(value):
    validate_attributes(value)


@pytest.mark.parametrize(
    "value",
    [
        [],
        "text",
        3,
        None,
        nested(6),
        {"a": [[[[[1]]]]]},
        nested(100000 // 100),
        {"x": "y" * 16400},
        {"k": "nul\x00"},
        {"nul\x00": 1},
    ],
)
def test_attributes_refused(value):
    with pytest.raises(ValidationError):
        validate_attributes(value)


def test_depth_counts_like_the_contract():
    validate_attributes({"a": {"b": 1}})  # depth 2
    validate_attributes(nested(5))
    with pytest.raises(ValidationError, match="5 levels"):
        validate_attributes(nested(6))


@pytest.mark.parametrize("value", ["", "   ", "\t", "a\nb", "bell\x07", "\x7f"])
def test_names_refused(value):
    with pytest.raises(ValidationError):
        validate_name(value)


def test_category_names_refuse_the_path_separator():
    validate_name("A/B")
    with pytest.raises(ValidationError, match="'/'"):
        validate_category_name("A/B")
    validate_category_name(" Spaces kept ")


def test_text_allows_newlines_but_not_other_controls():
    validate_text("line one\nline two\ttab\r\n")
    with pytest.raises(ValidationError):
        validate_text("escape \x1b[31m")
