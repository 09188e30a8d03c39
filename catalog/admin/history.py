"""A product's history page with its variants' changes: the SKUs' own records (who, when, what
changed), newest first, under the product's records."""

from typing import Any

from simple_history.template_utils import HistoricalRecordContextHelper

from catalog.models import SKU
from inventory_site.mixin_bases import HistoryAdminMixinBase

VARIANT_CHANGES_SHOWN = 100
# Records read to find each shown record's previous one (the change it made).
VARIANT_RECORDS_READ = 500


def variant_changes(product_id: int, *, limit: int = VARIANT_CHANGES_SHOWN) -> list:
    """The newest `limit` history records of the product's SKUs, each with `history_delta_changes`
    (what it changed against the SKU's previous record, when that is among the records read)."""
    records = list(
        SKU.history.filter(product_id=product_id)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[:VARIANT_RECORDS_READ]
    )
    newer_of: dict[int, Any] = {}  # historical records (django-simple-history has no types)
    for record in records:  # newest first: each record is the previous one of the SKU's newer record
        newer = newer_of.get(record.id)
        if newer is not None:
            delta = newer.diff_against(record, foreign_keys_are_objs=False)
            newer.history_delta_changes = HistoricalRecordContextHelper(SKU, newer).context_for_delta_changes(delta)
        newer_of[record.id] = record
    return records[:limit]


class VariantHistoryMixin(HistoryAdminMixinBase):
    """For the product admin: the history page lists the SKUs' changes too."""

    def history_view(self, request, object_id, extra_context=None):
        pk = int(object_id) if str(object_id).isdigit() else None
        extra = {"variant_changes": variant_changes(pk) if pk is not None else []}
        return super().history_view(request, object_id, {**(extra_context or {}), **extra})
