"""Import planning of SKUs: matched by code, case-insensitively, after their products."""

from collections.abc import Callable
from typing import cast

from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from catalog.models import SKU, BackorderPolicy
from catalog.services.bulk_rows import chunks
from catalog.services.imports.products import NewProduct, StoredRow
from catalog.services.imports.rows import CatalogImportResult, CatalogRow

DEFAULT_POLICY = BackorderPolicy.DENY.value  # a new SKU whose row leaves backorder_policy empty


class SkuPlanning:
    """`ImportPlan`'s SKUs: which rows create or change a SKU, and which codes a deleted SKU holds."""

    # Set by `ImportPlan`, whose planning this is.
    rows: list[CatalogRow]
    unit: str
    result: CatalogImportResult
    error: Callable[[CatalogRow, str], None]
    # Set by `ProductPlanning`, which runs first.
    product_of_row: dict[int, StoredRow | NewProduct]

    def _skus(self) -> None:
        sku_rows = [row for row in self.rows if row.sku_code]
        # Plain tuples, no locks: most rows of a re-import are unchanged. The rows to
        # update are locked (and their version read) just before writing.
        stored: dict[str, tuple] = {}
        codes = [cast(str, row.sku_code).lower() for row in sku_rows]
        if not SKU.all_objects.exists():
            codes = []  # an empty catalog (a first load): nothing to match
        for batch in chunks(codes, 20000):
            # One array parameter instead of 20,000: far cheaper to send and to plan.
            query = SKU.all_objects.filter(
                RawSQL('LOWER("catalog_sku"."sku_code") = ANY(%s)', (batch,), output_field=BooleanField())
            )
            for values in query.values_list(
                "id", "sku_code", "product_id", "price", "attributes", "is_deleted", "backorder_policy"
            ):
                stored[values[1].lower()] = values
        self.new_skus: list[tuple[CatalogRow, NewProduct | StoredRow]] = []
        # row, product, id, stored code, the policy to store (the row's, else the stored one)
        self.changed_skus: list[tuple[CatalogRow, NewProduct | StoredRow, int, str, str]] = []
        counts = self.result.skus
        for row in sku_rows:
            product = self.product_of_row.get(row.line)
            if product is None:
                continue  # the product row is already in error
            found = stored.get(cast(str, row.sku_code).lower())
            if found is None:
                self.new_skus.append((row, product))
                continue
            sku_id, code, product_id, price, attributes, is_deleted, stored_policy = found
            if is_deleted:
                self.error(
                    row, f"sku_code {row.sku_code!r} belongs to a deleted SKU (id {sku_id}); restore or purge it first"
                )
                continue
            policy = stored_policy if row.backorder_policy is None else row.backorder_policy
            if (
                price == row.price
                and attributes == row.attributes
                and product_id == product.pk
                and product.pk is not None
                and policy == stored_policy
            ):
                counts.unchanged += 1
                continue
            self.changed_skus.append((row, product, sku_id, code, policy))
        counts.created = len(self.new_skus)
        counts.updated = len(self.changed_skus)
