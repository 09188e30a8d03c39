# The two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=
# Runs a command with the embedded PostgreSQL of this checkout (.pgdata/) unless DATABASE_URL
# is set; --redis adds an embedded Redis unless one answers on 127.0.0.1:6379.
EMBEDDED := $(BIN)/python -m inventory_site.embedded

.PHONY: run serve test install bench reset-db clean lint docs docs-serve

$(BIN)/.installed: requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	touch $@

install: $(BIN)/.installed

## make run: PostgreSQL (the embedded server in .pgdata/, unless DATABASE_URL is set), migrations,
## demo data, an admin login, the dev server on 127.0.0.1:$(PORT), and a Celery worker with beat
## (Redis when REDIS_URL/CELERY_BROKER_URL is set, else a file broker). Ctrl-C stops them all.
run: install
	@$(EMBEDDED) -- $(MAKE) --no-print-directory serve

## make serve: what `make run` runs once the database is up (DATABASE_URL, or the embedded one running)
serve: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py dev_env
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py setup_roles
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py load_demo_data --skus 200
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py ensure_admin --url http://127.0.0.1:$(PORT)/admin/
	@# A Celery worker with beat beside the dev server (embedded file broker without Redis);
	@# webhooks to local receivers are allowed here, never by default.
	export DEBUG=$${DEBUG:-true} WEBHOOK_ALLOW_HTTP=$${WEBHOOK_ALLOW_HTTP:-true} \
	  WEBHOOK_ALLOW_PRIVATE_URLS=$${WEBHOOK_ALLOW_PRIVATE_URLS:-true}; \
	mkdir -p .celery-broker; \
	$(BIN)/celery -A inventory_site worker -B --pool threads --concurrency 4 --loglevel INFO \
	  --schedule .celery-broker/beat-schedule >.celery-broker/worker.log 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	echo "Celery worker and beat: pid $$worker, log .celery-broker/worker.log"; \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## make test: the whole suite, once, on PostgreSQL: TEST_DATABASE_URL or DATABASE_URL when set,
## else the embedded server; Redis on 127.0.0.1:6379 when one answers, else the embedded one.
test: install
	@url=$${TEST_DATABASE_URL:-$${DATABASE_URL:-}}; if [ -n "$$url" ]; then export DATABASE_URL=$$url; \
	  else unset DATABASE_URL; fi; \
	$(EMBEDDED) --redis -- $(BIN)/python -m pytest $(PYTEST_ARGS)

## make reset-db: stop the embedded PostgreSQL and delete .pgdata/ (the next `make run` starts empty)
reset-db: install
	$(EMBEDDED) --reset

bench: install
	$(BIN)/python -m bench.run $(if $(QUICK),--quick,)
	$(BIN)/python -m bench.events $(if $(QUICK),--events 5000 --seconds 5 --rounds 2,)
	$(BIN)/python -m bench.depth $(if $(QUICK),--quick,)

## make lint: ruff (lint and format check) and mypy, as CI and pre-commit run them
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## make docs: the documentation site in site/, strict (a broken link or a page missing from the nav fails);
## the API reference is rendered from the schema `manage.py spectacular` writes during the build
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

clean:
	rm -rf $(VENV) .pytest_cache staticfiles site
