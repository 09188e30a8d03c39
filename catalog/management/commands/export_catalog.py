"""`manage.py export_catalog [--format csv|json] [FILE]`: stream the active catalog out."""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.selectors_export import catalog_export_write
from inventory_site.management.output import discard_after_broken_pipe, raw_stream
from inventory_site.management.progress import progress_bar


class Command(BaseCommand):
    help = (
        "Write the active catalog (categories, products, SKUs) as CSV or JSON, to FILE or stdout. "
        "Rows are streamed, so memory stays flat on any catalog size; the file imports back "
        "unchanged with import_catalog."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="Output file; stdout when left out. '-' is stdout too.")
        parser.add_argument("--format", choices=("csv", "json"), help="Default: from FILE's extension, else csv.")

    def handle(self, *args, file: str | None, format: str | None, **options):
        started = time.monotonic()
        path = None if file in (None, "-") else file
        to_stdout = path is None
        file_format = format or (Path(path).suffix.lower().lstrip(".") if path is not None else "csv")
        if file_format not in ("csv", "json"):
            raise CommandError(f"Cannot tell the format of {file!r}: name a .csv or .json file or pass --format.")
        try:
            output = raw_stream(self.stdout) if path is None else open(path, "w", newline="", encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}.") from None
        rows = 0
        try:
            with progress_bar(self, desc="exporting") as bar:
                for _ in catalog_export_write(output, file_format=file_format):
                    rows += 1
                    bar.update(1)
        except BrokenPipeError:
            # The reader went away (`export_catalog | head`): stop quietly, like other Unix tools.
            discard_after_broken_pipe(output)
            return
        finally:
            if not to_stdout:
                output.close()
        if not to_stdout:
            self.stdout.write(
                self.style.SUCCESS(f"Exported {rows} rows to {file} in {time.monotonic() - started:.1f}s.")
            )
        else:
            self.stderr.write(f"Exported {rows} rows in {time.monotonic() - started:.1f}s.")
