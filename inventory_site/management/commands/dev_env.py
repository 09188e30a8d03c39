"""`manage.py dev_env`: write a development `.env` beside `manage.py`, once."""

import os
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Write a development .env beside manage.py (DEBUG=true, a generated SECRET_KEY, DATABASE_URL "
        "when one is given; without it the embedded PostgreSQL of the checkout) so that manage.py "
        "commands in any terminal run with the same settings as `make run`. "
        "Does nothing when a .env already exists."
    )

    def handle(self, *args, **options):
        path = settings.BASE_DIR / ".env"
        if path.exists():
            self.stdout.write(f"{path.name} exists; left as it is.")
            return
        given = os.environ.get("DATABASE_URL", "")
        database = (
            f"DATABASE_URL={given}\n"
            if given
            else "# DATABASE_URL unset: the embedded PostgreSQL in .pgdata/ (docs/operations/embedded-postgres.md)\n"
        )
        path.write_text(
            "# Written by `make run` (manage.py dev_env) for development on this machine only.\n"
            "# Delete it to get a fresh one; see .env.example for every setting.\n"
            "DEBUG=true\n"
            f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
            f"{database}",
            encoding="utf-8",
        )
        path.chmod(0o600)
        where = given or "the embedded PostgreSQL"
        self.stdout.write(self.style.SUCCESS(f"Wrote {path.name} (DEBUG=true, a new SECRET_KEY, {where})."))
