"""Queries of an admin import per row: a file's rows name the same few categories and products,
which one import looks up once (every row is still written through `catalog.services`).

Measured on 50 new rows (PostgreSQL), before the lookups were kept and after:
- SKUs, the admin's import (with its preview's diff): 757 queries (15.1 a row), 609 (12.2);
- SKUs, the background job (no diff): 707 (14.1), 609 (12.2);
- products: 707 (14.1), 609 (12.2).
What is left per row is the row's own lookup and the services' work (lock, checks, the row, its
history row and event, the savepoints of the row and the service). One query more a row fails."""

from decimal import Decimal

import pytest
import tablib

from catalog.admin.resources import ProductResource, SKUResource
from catalog.models import SKU, Product
from inventory_site.jobs.progress import ProgressWriter
from inventory_site.jobs.runner import tracked

ROWS = 50
CAP = ROWS * 12 + 12  # 609 measured, each; a query more a row is 659


def sku_file(rows: int = ROWS, prefix: str = "Q") -> tablib.Dataset:
    data = tablib.Dataset(headers=["sku_code", "category_path", "product", "price", "attributes"])
    for i in range(rows):
        data.append([f"{prefix}-{i:03d}", "Electronics/Phones", "Phone X", "9.90", ""])
    return data


def product_file(rows: int = ROWS, prefix: str = "Q") -> tablib.Dataset:
    data = tablib.Dataset(headers=["category_path", "name", "description", "attributes"])
    for i in range(rows):
        data.append(["electronics/phones" if i % 2 else "Electronics/Phones", f"{prefix} phone {i}", "", ""])
    return data


def run_import(resource, data, user):
    result = resource.import_data(
        data,
        dry_run=False,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
        user=user,
        retain_instance_in_row_result=True,
    )
    assert not result.has_errors() and not result.has_validation_errors(), [
        (r.number, r.error_dict) for r in result.invalid_rows
    ]
    return result


@pytest.fixture
def warm(catalog, staff):
    """Content types and the first lookups of the process, out of the counts."""
    run_import(SKUResource(), sku_file(2, "WARM"), staff)
    run_import(ProductResource(), product_file(2, "WARM"), staff)


def test_a_sku_import_looks_each_category_and_product_up_once(warm, staff, django_assert_max_num_queries):
    with django_assert_max_num_queries(CAP):  # 609 measured; 757 when looked up per row
        result = run_import(SKUResource(), sku_file(), staff)
    assert result.totals["new"] == ROWS
    assert set(SKU.objects.filter(sku_code__startswith="Q-").values_list("product__name", "price")) == {
        ("Phone X", Decimal("9.90"))
    }
    assert result.rows[0].instance.product.category.path == "Electronics/Phones"


def test_the_background_jobs_sku_import_has_no_diff_to_query_for(warm, staff, django_assert_max_num_queries):
    from inventory_site.jobs.models import AdminJob

    job = AdminJob.objects.create(
        kind="import", model_label="catalog.sku", file_format="csv", user=staff, status="running", rows_total=ROWS
    )
    with (
        ProgressWriter(job, interval=3600, step=10**6) as progress,
        django_assert_max_num_queries(CAP),
    ):  # 609 measured; 707 when looked up per row
        run_import(tracked(SKUResource, progress)(), sku_file(), staff)
    assert SKU.objects.filter(sku_code__startswith="Q-").count() == ROWS


def test_a_product_import_looks_each_category_up_once(warm, staff, django_assert_max_num_queries):
    with django_assert_max_num_queries(CAP):  # 609 measured; 707 when looked up per row
        result = run_import(ProductResource(), product_file(), staff)
    assert result.totals["new"] == ROWS
    assert Product.objects.filter(name__startswith="Q phone", category__path="Electronics/Phones").count() == ROWS


def test_a_missing_category_is_an_error_of_every_row_that_names_it(catalog, staff):
    data = sku_file(3)
    data.append(["Q-BAD", "Nowhere/Else", "Phone X", "9.90", ""])
    data.append(["Q-BAD2", "nowhere/else", "Phone X", "9.90", ""])
    result = SKUResource().import_data(
        data, dry_run=False, raise_errors=False, use_transactions=True, rollback_on_validation_errors=True, user=staff
    )
    assert [(r.number, r.error_dict) for r in result.invalid_rows] == [
        (4, {"category_path": ["No active category 'Nowhere/Else'."]}),
        (5, {"category_path": ["No active category 'nowhere/else'."]}),
    ]
    assert not SKU.objects.filter(sku_code__startswith="Q-").exists()
