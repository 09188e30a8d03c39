"""The stock admin: warehouses, levels with an "Adjust stock" form, the read-only ledger and
reservations; and the catalog's product and SKU screens with their stock (`stock.admin.catalog`).

Every write goes through the services, as the API's do.
"""

from stock.admin import catalog, inbound, levels, movements, reservations, warehouses  # noqa: F401  (registers the admins)
