# Pacts: `make run` serves the demo, `make test` runs every test. See README.md.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
TEST_DATABASE_URL := $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/pacts)
# The demo runs on the embedded SQLite database, whatever DATABASE_URL says.
DEMO_ENV := env -u DATABASE_URL DEBUG=1 PACTS_PUBLIC_READ=1

.PHONY: run test install lint format python-version clean backup restore serve-prod

run: $(VENV)/.installed
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py load_demo --users
	@echo "Serving the demo on http://127.0.0.1:8000/ (Ctrl-C stops it)"
	$(DEMO_ENV) $(PY) manage.py runserver 127.0.0.1:8000

test: install
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(DEMO_ENV) $(PY) manage.py makemigrations --check --dry-run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

install: $(VENV)/.installed node_modules/.installed

# axe-core, for the accessibility checks in the browser tests.
node_modules/.installed: package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	@touch $@

$(VENV)/.installed: requirements.txt | python-version
	@$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null || $(PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

python-version:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null || { \
		echo "Pacts needs Python 3.13, but '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
		echo "Install it (for example: pyenv install 3.13); the .python-version file selects it here."; \
		exit 1; }

# Backups of the PostgreSQL database at DATABASE_URL, in pg_dump's custom format; a dump is
# named .dump only once complete. A restore replaces what the dump holds in one transaction:
# on any error nothing changes. The shell reads the URL from the environment and never
# echoes it (it may hold a password).
BACKUP_DIR ?= backups
PG_DUMP ?= pg_dump
PG_RESTORE ?= pg_restore

backup:
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL to the database to back up." >&2; exit 2; }
	@mkdir -p "$(BACKUP_DIR)"
	@dump="$(BACKUP_DIR)/pacts-$$(date -u +%Y%m%d-%H%M%S).dump"; \
		$(PG_DUMP) --format=custom --file="$$dump.partial" --dbname="$$DATABASE_URL" \
		|| { rm -f "$$dump.partial"; exit 1; }; \
		mv "$$dump.partial" "$$dump" && echo "$$dump"

restore:
	@test -n "$(DUMP)" || { echo "Say which dump to restore: make restore DUMP=backups/pacts-….dump" >&2; exit 2; }
	@test -f "$(DUMP)" || { echo "No such dump: $(DUMP)" >&2; exit 2; }
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL to the database to restore into." >&2; exit 2; }
	@$(PG_RESTORE) --clean --if-exists --no-owner --single-transaction --exit-on-error \
		--dbname="$$DATABASE_URL" "$(DUMP)" && echo "Restored $(DUMP)"
	@# Cached revisions and fragments describe the data before the restore.
	@$(PY) manage.py shell --no-imports -c "from django.core.cache import cache; cache.clear()"

# The production stack on this machine against the PostgreSQL at DATABASE_URL: the release
# steps, then gunicorn with DEBUG off and hashed static files (docs/deploy.md). Plain HTTP on
# 127.0.0.1, so no redirect to HTTPS; a secret key made for this run unless SECRET_KEY is set.
PROD_ENV := env -u DEBUG ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=0

serve-prod: $(VENV)/.installed
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL to the PostgreSQL database to serve." >&2; exit 2; }
	$(PROD_ENV) $(PY) manage.py migrate --noinput
	$(PROD_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "Serving production settings on http://$${GUNICORN_BIND:-127.0.0.1:8000}/ (Ctrl-C stops it)"
	@$(PROD_ENV) SECRET_KEY="$${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')}" \
		$(BIN)/gunicorn -c gunicorn.conf.py

clean:
	rm -rf $(VENV) node_modules db.sqlite3 staticfiles .pytest_cache .ruff_cache

# Not part of `make test`: seeds 1,000 / 10,000 / 100,000 agreements once (kept as template
# databases), serves them with gunicorn and loads every page with wrk, then writes
# docs/benchmarks.md. Needs wrk (apt-get install wrk). Settings: see bench/run.py.
.PHONY: bench
bench: $(VENV)/.installed
	$(PY) bench/run.py

# Not part of `make test` either: restarts this machine's PostgreSQL and kills a gunicorn
# worker under load, then checks that no write was lost or half-made (bench/faults.py).
.PHONY: faults
faults: $(VENV)/.installed
	$(PY) bench/faults.py
