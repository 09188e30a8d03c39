"""How the back office writes figures: quantities with thousands separators, money with its
currency, one date format, a warehouse by its name (its code where space is short)."""

from datetime import date, datetime
from decimal import Decimal

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.formats import number_format

register = template.Library()

DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M"


@register.filter
def quantity(value) -> str:
    """`12345` -> "12,345"; empty stays empty."""
    if value is None or value == "":
        return ""
    return number_format(value, decimal_pos=0, use_l10n=True, force_grouping=True)


@register.filter
def money(value) -> str:
    """`Decimal("1234.5")` -> "1,234.50 EUR" (the shop's currency, `settings.CURRENCY`)."""
    if value is None or value == "":
        return ""
    amount = number_format(Decimal(value), decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{amount} {settings.CURRENCY}"


@register.filter
def when(value) -> str:
    """A date or a moment, in the admin's one format (local time, to the minute)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).strftime(DATETIME_FORMAT)
            if timezone.is_aware(value)
            else value.strftime(DATETIME_FORMAT)
        )
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    return str(value)
