"""Signals of catalog writes, the seam for apps that build on the catalog (the catalog
imports none of them).

`skus_hiding` is sent with `sku_ids` inside the transaction that is about to soft-delete
those SKUs (a SKU alone, or a product's SKUs with it), after their rows are locked. A
receiver refuses by raising a `DomainError`; the transaction then writes nothing.
"""

from django.dispatch import Signal

skus_hiding = Signal()
