"""The platform: settings, URLs, API conventions. Loads the Celery app so tasks find it."""

from inventory_site.celery import app as celery_app

__all__ = ["celery_app"]
