# Pacts: `make run` serves the demo, `make test` runs every test. See README.md.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
TEST_DATABASE_URL := $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/pacts)
# The demo runs on the embedded SQLite database, whatever DATABASE_URL says.
DEMO_ENV := env -u DATABASE_URL DEBUG=1 PACTS_PUBLIC_READ=1

.PHONY: run test install lint format python-version clean

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

clean:
	rm -rf $(VENV) node_modules db.sqlite3 staticfiles .pytest_cache .ruff_cache
