"""Events (a transactional outbox), the pull feed, and signed webhook delivery.

Knows no other app: catalog and stock call `events.services.event_emit` with payloads
they build themselves (`catalog/events.py`, `stock/events.py`).
"""
