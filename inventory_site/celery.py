"""The Celery app: background work of every app, found by autodiscovery (`<app>/tasks.py`).

Production: `celery -A inventory_site worker` and `celery -A inventory_site beat` beside
gunicorn, with `CELERY_BROKER_URL` (default `REDIS_URL`). Without either, an embedded
broker in files under the project (`make run` on a machine without Redis).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inventory_site.settings")

app = Celery("inventory_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
