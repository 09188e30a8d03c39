"""`manage.py load_demo_data [--skus N] [--seed S]`: a realistic demo catalog with stock."""

import time

from django.core.management.base import BaseCommand, CommandError

from inventory_site.exceptions import DomainError
from inventory_site.management.progress import progress_bar
from stock.services.demo_data import demo_catalog_load, planner_statistics_refresh


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Load a demo catalog: a 3-4 level category tree, products with colour/size SKU variants, "
        "stock in the MAIN and EAST warehouses received as `receipt` movements, and a few active "
        "reservations. Idempotent: does nothing when demo SKUs (codes starting with 'DM-') exist. "
        "Written in bulk in one transaction (no change history rows); --skus 1000000 takes minutes "
        "on PostgreSQL."
    )

    def add_arguments(self, parser):
        parser.add_argument("--skus", type=positive_int, default=200, help="How many SKUs (default 200).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed; same seed, same catalog (default 42).")

    def handle(self, *args, skus: int, seed: int, **options):
        started = time.monotonic()
        try:
            with progress_bar(self, total=skus, desc="demo SKUs", unit="SKUs") as bar:
                result = demo_catalog_load(skus=skus, seed=seed, progress=bar.update)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        if not result.skipped:
            planner_statistics_refresh()
        seconds = time.monotonic() - started
        if result.skipped:
            self.stdout.write(f"The demo catalog is already loaded; nothing to do (0 created, {seconds:.1f}s).")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo catalog loaded in {seconds:.1f}s: {result.categories} categories, {result.products} products, "
                f"{result.skus} SKUs, {result.levels} stock levels, {result.movements} receipt movements, "
                f"{result.reservations} reservations created."
            )
        )
