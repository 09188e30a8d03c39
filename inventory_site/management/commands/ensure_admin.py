"""`manage.py ensure_admin`: make sure a superuser exists, for a first login (idempotent)."""
import os
import secrets

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

    def handle(self, *args, **options):
        user_model = get_user_model()
        if user_model.objects.filter(is_superuser=True).exists():
            self.stdout.write("A superuser already exists; nothing to do.")
            return
        password = os.environ.get("ADMIN_PASSWORD", "")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        user_model.objects.create_superuser(options["username"], options["email"], password)
        self.stdout.write(self.style.SUCCESS(f'Created superuser "{options["username"]}".'))
        if generated:
            self.stdout.write(f"Password (shown once, not stored): {password}")
        else:
            self.stdout.write("Password taken from ADMIN_PASSWORD.")
