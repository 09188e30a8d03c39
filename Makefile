# The two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/inventory
PYTEST_ARGS ?=

.PHONY: run test test-postgres test-sqlite install bench migrate demo clean browsers lint docs docs-serve

$(BIN)/.installed: requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	touch $@

install: $(BIN)/.installed

## make run: SQLite, migrations, demo data, an admin login, the dev server on 127.0.0.1:$(PORT),
## and a Celery worker with beat (Redis when REDIS_URL/CELERY_BROKER_URL is set, else a file broker)
run: install
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

## make test: the whole suite on PostgreSQL, then the SQLite-compatible part on SQLite
test: install
	$(MAKE) --no-print-directory test-postgres
	$(MAKE) --no-print-directory test-sqlite

test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/python -m pytest $(PYTEST_ARGS)

test-sqlite: install
	DATABASE_URL=sqlite:///$(CURDIR)/.test-sqlite.db $(BIN)/python -m pytest -m "not postgres and not browser" $(PYTEST_ARGS)

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
	rm -rf $(VENV) db.sqlite3 .pytest_cache staticfiles site
