"""Settings for the test suite: the project's settings with test-only defaults."""

import hashlib
import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")
os.environ.setdefault("DEBUG", "false")

from inventory_site.settings import *  # noqa: E402,F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# Celery: the machine's Redis, DB 5, keys under a prefix of this checkout's own (two checkouts
# testing at once on one machine must not take, or purge, each other's tasks).
_CHECKOUT = hashlib.sha1(str(Path(__file__).resolve().parents[1]).encode()).hexdigest()[:8]
CELERY_BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/5")
CELERY_BROKER_TRANSPORT_OPTIONS = {  # noqa: F405
    "socket_connect_timeout": 1,
    "socket_timeout": 5,
    "global_keyprefix": os.environ.get("TEST_CELERY_KEY_PREFIX", f"inv_events_test:{_CHECKOUT}:"),
}
