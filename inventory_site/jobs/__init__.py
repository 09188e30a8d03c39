"""Admin imports and exports too large for a request (over `ADMIN_SYNC_IMPORT_ROWS` rows),
run by the Celery worker as `AdminJob`s whose progress and result the admin shows.

The jobs know no app: the worker finds the model's admin in the admin registry and runs
the admin's own django-import-export resources and formats, so a background import writes
through the same services as one in the request.
"""
