"""Catalog writes. Import from here: `from catalog.services import sku_create`."""

from catalog.services.bulk_edits import (  # noqa: F401
    RowChange,
    categories_move,
    price_after,
    products_move,
    skus_reprice,
)
from catalog.services.categories import (  # noqa: F401
    category_create,
    category_hard_delete,
    category_move,
    category_restore,
    category_soft_delete,
    category_tree_lock,
    category_update,
)
from catalog.services.products import (  # noqa: F401
    product_create,
    product_hard_delete,
    product_restore,
    product_soft_delete,
    product_update,
)
from catalog.services.skus import (  # noqa: F401
    sku_count_repair,
    sku_create,
    sku_hard_delete,
    sku_restore,
    sku_soft_delete,
    sku_update,
)
