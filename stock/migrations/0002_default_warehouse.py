"""Create the default warehouse `MAIN`, so stock has somewhere to go from the first migrate."""

from django.db import migrations


def create_main(apps, schema_editor):
    Warehouse = apps.get_model("stock", "Warehouse")
    if not Warehouse.objects.filter(is_default=True).exists():
        Warehouse.objects.get_or_create(code="MAIN", defaults={"name": "Main warehouse", "is_default": True})


class Migration(migrations.Migration):
    dependencies = [("stock", "0001_initial")]

    operations = [migrations.RunPython(create_main, migrations.RunPython.noop)]
