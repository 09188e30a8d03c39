"""Settings, read from the environment and an optional `.env` file (see `.env.example`)."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from inventory_site.embedded import postgres as embedded_postgres

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-dev-only-key-never-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "inventory_site.errors.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mptt",
    "simple_history",
    "import_export",
    "inventory_site.apps.InventorySiteConfig",
    "catalog.apps.CatalogConfig",
    "stock.apps.StockConfig",
    "events.apps.EventsConfig",
]

MIDDLEWARE = [
    "inventory_site.middleware.RequestIdMiddleware",
    "inventory_site.metrics.MetricsMiddleware",
    "inventory_site.middleware.Utf8BodyMiddleware",  # before anything reads a form
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Django's session, authentication and messages middleware, skipped for token-authenticated
    # API requests, which never read them (inventory_site.middleware.is_token_api_request).
    "inventory_site.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "inventory_site.middleware.AuthenticationMiddleware",
    "inventory_site.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "inventory_site.urls"
WSGI_APPLICATION = "inventory_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# PostgreSQL only. Without DATABASE_URL: the embedded server of this checkout, which
# `make run` and `make test` start (docs/operations/embedded-postgres.md).
DATABASES = {
    "default": env.db("DATABASE_URL", default=embedded_postgres.database_url()),
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL server: postgres://USER@HOST:PORT/NAME.")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
# Behind PgBouncer in transaction pooling mode, server-side cursors cannot be used.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DB_DISABLE_SERVER_SIDE_CURSORS", default=False)
DATABASES["default"].setdefault("OPTIONS", {})
# Fail fast instead of hanging a worker when the database is unreachable.
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5))
# Server-side binding, and prepared statements: psycopg prepares a statement run
# DB_PREPARE_THRESHOLD times on a connection, so the hot statements are parsed and planned
# once per connection, not per request (Django leaves preparing off unless asked: README
# "Performance" has the figures). Both off behind a PgBouncer in transaction pooling mode
# older than 1.21 (prepared statements live in one server connection).
if env.bool("DB_SERVER_SIDE_BINDING", default=True):
    DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = env.int("DB_PREPARE_THRESHOLD", default=5) or None
# psycopg's connection pool, per worker process (DB_POOL_SIZE connections at most).
if env.int("DB_POOL_SIZE", default=0) > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": 1,
        "max_size": env.int("DB_POOL_SIZE"),
        "timeout": env.int("DB_CONNECT_TIMEOUT", default=5),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (shared across workers when REDIS_URL is set) ---------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # A slow or lost Redis must not hang or fail requests: cache calls give up
                # after half a second and count as misses (rate limiting then fails open).
                "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=0.5),
                "SOCKET_TIMEOUT": env.float("REDIS_TIMEOUT", default=0.5),
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth, i18n, static ------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
# The currency of every price (SKU prices carry none); the admin writes money with it.
CURRENCY = env.str("CURRENCY", default="EUR")
# The admin's one date format (inventory_site/formats/en/formats.py).
FORMAT_MODULE_PATH = ["inventory_site.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Request bodies above 2 MiB are refused with 413 payload_too_large.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The admin saves a whole product with its SKU inlines in one form.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10000

# --- CORS ----------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("BACKEND_CORS_ORIGINS", default=[])
CORS_EXPOSE_HEADERS = ["ETag", "Idempotent-Replayed", "Retry-After", "X-Request-ID"]

# --- HTTPS behind a proxy --------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^health/?$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# The redirect to HTTPS and the HSTS preload list are the proxy's and the operator's
# decisions (SECURE_SSL_REDIRECT defaults to false by contract), so `check --deploy`
# does not warn about them.
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=["security.W008", "security.W021"])

# --- The API ---------------------------------------------------------------------
DEFAULT_PAGE_SIZE = env.int("DEFAULT_PAGE_SIZE", default=20)
MAX_PAGE_SIZE = env.int("MAX_PAGE_SIZE", default=100)
RATE_LIMIT_REQUESTS_PER_MINUTE = env.int("RATE_LIMIT_REQUESTS_PER_MINUTE", default=100)
RESERVATION_TTL_SECONDS = env.int("RESERVATION_TTL_SECONDS", default=900)
# How a reservation line that names no warehouse is placed: `priority` (warehouses by their
# priority, lower first, the default one first among equals; the first that has enough) or
# `most_stock` (the warehouse with the most available).
STOCK_ALLOCATION_STRATEGY = env.str("STOCK_ALLOCATION_STRATEGY", default="priority")
if STOCK_ALLOCATION_STRATEGY not in ("priority", "most_stock"):
    raise ImproperlyConfigured(
        f"STOCK_ALLOCATION_STRATEGY must be 'priority' or 'most_stock', not {STOCK_ALLOCATION_STRATEGY!r}."
    )
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)
# /metrics: served to these addresses or networks (REMOTE_ADDR), or to `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "inventory_site.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["inventory_site.api.permissions.ModelActionPermissions"],
    "DEFAULT_RENDERER_CLASSES": [
        "inventory_site.api.renderers.EnvelopeJSONRenderer",
        "inventory_site.api.renderers.EnvelopeBrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["inventory_site.api.parsers.StrictJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "inventory_site.api.pagination.PageSizePagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["inventory_site.api.throttling.RequestsPerMinuteThrottle"],
    "EXCEPTION_HANDLER": "inventory_site.api.exceptions.envelope_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "inventory_site.api.schema.EnvelopeAutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Proxies in front of the app (the load balancer: 1). The anonymous rate limit counts
    # per client IP from X-Forwarded-For only that many hops back, so clients cannot forge it.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Inventory Service API",
    "DESCRIPTION": (
        "Catalog (categories, products, SKUs) and stock (warehouses, levels, movements, "
        "adjustments, transfers, reservations) for storefronts, ERPs and order systems. "
        "Every response except 204, the schema and /health/ is wrapped in the envelope "
        "`{status, data, message, meta}`; errors carry `code` and `errors`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Operation ids are the function names of a generated client: show them.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "displayOperationId": True},
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # `from` and `to` of a state move share one choice set: one component, not FromEnum/ToEnum.
    "ENUM_NAME_OVERRIDES": {"StockStateEnum": "stock.models.StockState"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "inventory_site.api.schema.postprocess_shared_components",
    ],
}

# --- Logging: one JSON object per line, with the request id -----------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "inventory_site.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "inventory_site.logging.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's default config gives "django" its own console handler in debug; records
        # also reach the root's, so each line printed twice. One handler: the root's.
        "django": {"handlers": [], "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Admin ------------------------------------------------------------------------
SIMPLE_HISTORY_REVERT_DISABLED = False
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# Without these any staff member could import or export every catalog row, whatever
# their model permissions: importing needs `add_<model>`, exporting `view_<model>`.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# Imports and exports of more rows than this run on the Celery worker as background jobs
# (inventory_site.jobs), whose page in the admin shows their progress and result.
ADMIN_SYNC_IMPORT_ROWS = env.int("ADMIN_SYNC_IMPORT_ROWS", default=2000)
# An upload larger than this once uncompressed goes to the worker unread: a request never parses
# more (the worker reads it within inventory_site.spreadsheets.IMPORT_LIMITS).
ADMIN_SYNC_IMPORT_BYTES = env.int("ADMIN_SYNC_IMPORT_BYTES", default=1024 * 1024)
# Finished jobs (and their files) are deleted this many days after they ended.
ADMIN_JOB_RETENTION_DAYS = env.int("ADMIN_JOB_RETENTION_DAYS", default=7)
# A job queued this long is sent to the worker again (its message was lost); a running job whose
# worker died is run again from the start, up to this many runs, then fails with a sentence.
ADMIN_JOB_REQUEUE_MINUTES = env.int("ADMIN_JOB_REQUEUE_MINUTES", default=5)
ADMIN_JOB_MAX_ATTEMPTS = env.int("ADMIN_JOB_MAX_ATTEMPTS", default=3)
# Files of the background jobs (uploads, exports); served only through the job's page.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))

# --- Events, webhooks and background work (Celery) ---------------------------------
EVENT_RETENTION_DAYS = env.int("EVENT_RETENTION_DAYS", default=30)
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=False)
WEBHOOK_ALLOW_PRIVATE_URLS = env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=False)
# For drills and tests only: shrink the retry schedule (0.01: 10 s becomes 0.1 s).
WEBHOOK_BACKOFF_SCALE = env.float("WEBHOOK_BACKOFF_SCALE", default=1.0)
# Delivery batches: up to this many attempts per transaction, for at most this many seconds
# (a row's lock is held until its batch commits), and this many drain tasks queued at once.
WEBHOOK_BATCH_SIZE = env.int("WEBHOOK_BATCH_SIZE", default=100)
WEBHOOK_BATCH_SECONDS = env.float("WEBHOOK_BATCH_SECONDS", default=5.0)
WEBHOOK_DRAIN_TASKS = env.int("WEBHOOK_DRAIN_TASKS", default=4)
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
if not CELERY_BROKER_URL:
    # No Redis: an embedded broker in files, shared by the dev server, worker and beat.
    CELERY_BROKER_URL = "filesystem://"
    _BROKER_DIR = Path(env.str("CELERY_FILESYSTEM_BROKER_DIR", default=str(BASE_DIR / ".celery-broker")))
    for _sub in ("queue", "processed", "control"):
        (_BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),  # else `control/` in the working directory
        "store_processed": False,
    }
else:
    # Publishing (after a commit) must not hang a request when the broker is down: the
    # outbox sweep queues whatever was not handed over.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 1,
        "socket_timeout": 5,
        "global_keyprefix": env.str("CELERY_KEY_PREFIX", default=""),
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a task whose worker died is run again (deliveries are at least once)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env.int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", default=200_000)  # KiB
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "events-sweep": {"task": "events.sweep", "schedule": 2.0},
    "reservations-expire": {"task": "stock.expire_reservations", "schedule": 60.0},
    "events-purge": {"task": "events.purge", "schedule": 86400.0},
    "idempotency-purge": {"task": "stock.purge_idempotency_keys", "schedule": 86400.0},
    "admin-jobs-recover": {"task": "inventory_site.admin_jobs_recover", "schedule": 60.0},
    "admin-jobs-purge": {"task": "inventory_site.admin_jobs_purge", "schedule": 86400.0},
}
