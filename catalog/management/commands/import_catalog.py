"""`manage.py import_catalog FILE [--dry-run]`: upsert categories, products and SKUs from CSV or JSON."""

import gc
import time

from django.core.management.base import BaseCommand, CommandError

from catalog.services.imports import CATALOG_COLUMNS, catalog_file_records, catalog_import, catalog_rows_check
from inventory_site.exceptions import DomainError
from inventory_site.management.progress import progress_bar


class Command(BaseCommand):
    help = (
        "Import a catalog from a .csv or .json file with the columns "
        f"{', '.join(CATALOG_COLUMNS)} (category_path, product_name, sku_code and price are required; "
        "the others are optional; backorder_policy is deny or allow_incoming, empty = as stored, deny for a "
        "new SKU). Categories are matched by path ('A/B/C'), products by name within "
        "their category and SKUs by sku_code, all case-insensitively; missing ones are created, changed "
        "ones updated. Every row is checked first: one bad row and nothing is written (each bad row is "
        "listed with its line). Each row created or changed gets a history record (reason 'Catalog import')."
    )
    # The system checks import every URLconf and admin (~0.5 s of CPU per run); `manage.py check`
    # and every other command still run them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .csv or .json file, e.g. one written by export_catalog.")
        parser.add_argument("--dry-run", action="store_true", help="Check and count, write nothing.")

    def handle(self, *args, file: str, dry_run: bool, **options):
        started = time.monotonic()
        # The import holds a few hundred thousand small objects and makes no cycles worth
        # collecting meanwhile: the cyclic GC would walk all of them again and again (~1 s
        # of CPU per 100k rows). It is back on when the command ends.
        collecting = gc.isenabled()
        gc.disable()
        try:
            result = self._import(file, dry_run)
        finally:
            if collecting:
                gc.enable()
        seconds = time.monotonic() - started
        for name in ("categories", "products", "skus"):
            counts = getattr(result, name)
            self.stdout.write(
                f"{name}: {counts.created} created, {counts.updated} updated, {counts.unchanged} unchanged"
            )
        prefix = "Dry run, nothing written: would have imported" if dry_run else "Imported"
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix} {result.rows} rows: {result.created} created, {result.updated} updated, "
                f"{result.unchanged} unchanged in {seconds:.1f}s."
            )
        )

    def _import(self, file: str, dry_run: bool):
        try:
            unit, records = catalog_file_records(file)
            with progress_bar(self, desc="checking") as bar:
                rows = catalog_rows_check(records, unit=unit, progress=bar.update)
            with progress_bar(self, total=len(rows), desc="writing") as bar:
                result = catalog_import(rows=rows, unit=unit, dry_run=dry_run, progress=bar.update)
        except FileNotFoundError:
            raise CommandError(f"{file}: no such file.") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
        except DomainError as exc:
            for where, reason in (exc.errors or {}).items():
                self.stderr.write(f"{where}: {reason}")
            raise CommandError(exc.message) from None
        return result
