"""Servers that a checkout runs by itself when none is configured: PostgreSQL and Redis.

`make run` and `make test` start them through `python -m inventory_site.embedded -- CMD`;
docs/operations/embedded-postgres.md says where their data lives and how to reset it.
"""
