"""`manage.py ensure_admin`: make sure a superuser exists, for a first login (idempotent)."""

import os
import secrets
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        'Create the superuser "admin" when no superuser exists. The password comes from '
        "ADMIN_PASSWORD, or is generated and printed once (it is stored nowhere else). "
        "Does nothing when a superuser already exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin", help='Login name (default "admin").')
        parser.add_argument("--email", default="admin@example.com")
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/", help="Admin address to print.")

    def handle(self, *args, **options):
        user_model = get_user_model()
        reset = f"{_python()} manage.py changepassword {{}}"
        existing = user_model.objects.filter(is_superuser=True).order_by("pk").first()
        if existing is not None:
            self.stdout.write(
                f"Admin: {options['url']}  login: {existing.get_username()} (password as set before; "
                f"forgot it? {reset.format(existing.get_username())})"
            )
            return
        password = os.environ.get("ADMIN_PASSWORD", "")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser(options["username"], options["email"], password)
        username = options["username"]
        shown = f"{password}  (shown once, not stored)" if generated else "from ADMIN_PASSWORD"
        self.stdout.write(self.style.SUCCESS(f'Created superuser "{username}".'))
        self.stdout.write(f"Admin: {options['url']}  login: {username}  password: {shown}")
        self.stdout.write(f"To set another password later: {reset.format(username)}")


def _python() -> str:
    """The interpreter as a second terminal types it: `.venv/bin/python` beside manage.py (as
    `make run` uses it), else `python`."""
    here = os.path.abspath(sys.executable)
    relative = os.path.relpath(here, os.getcwd())
    return relative if not relative.startswith("..") and os.sep in relative else "python"
