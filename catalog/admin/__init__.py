"""The catalog admin: categories (a draggable tree), products with SKU inlines, SKUs.

Every write goes through `catalog.services`, as the API's do.
"""

from catalog.admin import categories, products, skus  # noqa: F401  (registers the admins)
