"""The models and their migrations agree: a model change without its migration fails here."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_rules_migration_keeps_existing_data_valid(request):
    """0003 adds the catalog's CHECKs and the unique product name per category: rows that
    older code let in are fixed first, deterministically. (The schema is migrated back to
    the latest afterwards, for the tests that follow.)"""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("catalog", "0002_drop_redundant_indexes")], [("catalog", "0003_rules_in_the_database")]
    executor = MigrationExecutor(connection)
    request.addfinalizer(lambda: MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes()))
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Category, Product, SKU = (old.get_model("catalog", name) for name in ("Category", "Product", "SKU"))
    shelf = Category._default_manager.create(
        name="Shelf", slug="shelf", path="Shelf", lft=1, rght=2, tree_id=1, level=0
    )
    phones = [
        Product._default_manager.create(name=name, slug="p", category=shelf) for name in ("Phone", "PHONE", "phone")
    ]
    Product._default_manager.create(name="Phone (2)", slug="p", category=shelf)  # the first suffix is taken
    deleted = Product._default_manager.create(name="Phone", slug="p", category=shelf, is_deleted=True)
    codes = [
        SKU._default_manager.create(sku_code=code, product=phones[0], price=1)
        for code in ("", "HAS SPACE", "A/B", "OK-1")
    ]

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    Product, SKU = new.get_model("catalog", "Product"), new.get_model("catalog", "SKU")
    names = dict(Product._default_manager.values_list("pk", "name"))
    assert [names[p.pk] for p in phones] == ["Phone", "PHONE (3)", "phone (4)"]
    assert names[deleted.pk] == "Phone"  # deleted rows do not take part
    fixed = dict(SKU._default_manager.values_list("pk", "sku_code"))
    assert [fixed[s.pk] for s in codes] == [f"SKU-{codes[0].pk}", "HAS-SPACE", "A-B", "OK-1"]
