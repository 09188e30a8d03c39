"""`@idempotent` for the stock endpoints: the platform's plumbing over the keys that
`stock.services.idempotency` keeps in `IdempotencyRecord`."""

from inventory_site.api.idempotency import KeyStore, idempotent_with
from stock import services

STORE = KeyStore(
    fingerprint=services.request_fingerprint,
    begin=services.idempotency_begin,
    hold=services.idempotency_hold,
    complete=services.idempotency_complete,
    abandon=services.idempotency_abandon,
)
idempotent = idempotent_with(STORE)
