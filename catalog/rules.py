"""The catalog's input rules, one function each: the one place each rule is written.

The services call them on every write, so a face that reaches the database through a
service (API, admin forms and inlines, admin import, history revert, commands) obeys
them. `catalog.services.imports` calls the same functions for its bulk path. Each
returns the value to store and raises `RuleBroken` (an `InvalidInput`) naming the field;
its message reads "<field> <value> <problem>" and the field's error is the problem alone.
"""

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from catalog.exceptions import RuleBroken
from inventory_site.validators import validate_attributes, validate_category_name, validate_name, validate_text

SKU_CODE_MAX_LENGTH = 50
# `\Z`, not `$`: in Python `$` also matches before a final newline. PostgreSQL's regular
# expressions read `\Z` the same way (the end of the text only).
SKU_CODE_PATTERN = r"^[A-Za-z0-9._-]{1,50}\Z"
SKU_CODE_PROBLEM = "must be 1-50 characters of A-Z, a-z, 0-9, '.', '_' and '-'"
MIN_PRICE = Decimal("0")
MAX_PRICE = Decimal("99999999.99")
PRICE_PLACES = 2
CATEGORY_NAME_MAX_LENGTH = 100
CATEGORY_DESCRIPTION_MAX_LENGTH = 500
PRODUCT_NAME_MAX_LENGTH = 150
PRODUCT_DESCRIPTION_MAX_LENGTH = 5000
# More characters than any price can be written with (a sign, 8 digits, a point, 2 places,
# some zeros): refused before `Decimal` works through a 5,000-digit number.
_PRICE_TEXT_MAX_LENGTH = 40
BACKORDER_POLICIES = ("deny", "allow_incoming")  # the first is the default
_SKU_CODE_RE = re.compile(SKU_CODE_PATTERN)
_CENT = Decimal("0.01")


def backorder_policy_checked(value: Any) -> str:
    """`backorder_policy`: `deny` or `allow_incoming` (None: `deny`); `catalog.models.BackorderPolicy`
    names the same values."""
    if value is None:
        return BACKORDER_POLICIES[0]
    if value not in BACKORDER_POLICIES:
        raise RuleBroken("backorder_policy", value, f"is not one of {', '.join(BACKORDER_POLICIES)}")
    return value


def sku_code_key(value: Any) -> str | None:
    """The form in which codes are equal (the unique index on lower(sku_code)): a code the
    create rule accepts, in lower case; None for any other text, which names no SKU.

    Both PostgreSQL's lower() and Python's fold some non-ASCII letters into ASCII (`İ` to `i`,
    the Kelvin sign to `k`): looked up as they are, `MİD-0000006` named `MID-0000006`.
    """
    if not isinstance(value, str) or not _SKU_CODE_RE.match(value):
        return None
    return value.lower()


def sku_code_checked(value: Any) -> str:
    """A SKU code: 1-50 characters of A-Z a-z 0-9 . _ - (no spaces, '/', accents, nor empty)."""
    if not isinstance(value, str) or not _SKU_CODE_RE.match(value):
        raise RuleBroken("sku_code", value, SKU_CODE_PROBLEM)
    return value


def price_checked(value: Any) -> Decimal:
    """A price: a number 0..99999999.99 with at most 2 decimal places; more places are refused, never rounded."""
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise RuleBroken("price", value, "is not a price like 19.90")
    text = value.strip() if isinstance(value, str) else str(value)
    if len(text) > _PRICE_TEXT_MAX_LENGTH and not isinstance(value, Decimal):
        raise RuleBroken("price", value, f"is not between {MIN_PRICE} and {MAX_PRICE}")
    try:
        price = value if isinstance(value, Decimal) else Decimal(text)
    except (InvalidOperation, ValueError, TypeError):
        raise RuleBroken("price", value, "is not a price like 19.90") from None
    if not price.is_finite():
        raise RuleBroken("price", value, "is not a price like 19.90")
    if not MIN_PRICE <= price <= MAX_PRICE:
        raise RuleBroken("price", value, f"is not between {MIN_PRICE} and {MAX_PRICE}")
    exponent = price.as_tuple().exponent  # an int: the price is finite
    if isinstance(exponent, int) and exponent < -PRICE_PLACES:
        raise RuleBroken("price", value, f"has more than {PRICE_PLACES} decimal places")
    return price.quantize(_CENT)


def _django_rule(validator: Callable[[Any], None], field: str, value: Any) -> None:
    try:
        validator(value)
    except ValidationError as exc:
        problem = " ".join(exc.messages).rstrip(".")
        raise RuleBroken(field, value, problem[0].lower() + problem[1:]) from None


def _length_checked(field: str, value: str, max_length: int) -> str:
    if len(value) > max_length:
        raise RuleBroken(field, value, f"must have at most {max_length} characters (it has {len(value)})")
    return value


def product_name_checked(value: Any, field: str = "name") -> str:
    """A product name: 1-150 characters, not whitespace only, no control characters."""
    _django_rule(validate_name, field, value)
    return _length_checked(field, value, PRODUCT_NAME_MAX_LENGTH)


def category_name_checked(value: Any, field: str = "name") -> str:
    """A category name: 1-100 characters, not whitespace only, no control characters, no '/'."""
    _django_rule(validate_category_name, field, value)
    return _length_checked(field, value, CATEGORY_NAME_MAX_LENGTH)


def description_checked(value: Any, max_length: int, field: str = "description") -> str:
    """Free text: may be empty, newlines and tabs allowed, other control characters not."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RuleBroken(field, value, "must be text")
    _django_rule(validate_text, field, value)
    return _length_checked(field, value, max_length)


def attributes_checked(value: Any, field: str = "attributes") -> dict:
    """`attributes`: a JSON object, at most 16 KiB serialized and 5 levels deep (None: `{}`)."""
    if value is None:
        return {}
    _django_rule(validate_attributes, field, value)
    return value
