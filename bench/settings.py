"""Settings for the benchmark server: the product's settings with the baseline route added.

Everything else (DEBUG, SECRET_KEY, DATABASE_URL, RATE_LIMIT_REQUESTS_PER_MINUTE...)
comes from the environment that `bench.run` sets, exactly as in production.
"""

from inventory_site.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.urls"
