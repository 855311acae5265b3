# LocalSpend: `make run` serves the app with demo data; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
MANAGE := $(BIN)/python manage.py

.PHONY: run test lint format pytest migrations-check bench install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(MANAGE) migrate --no-input
	$(MANAGE) load_councils
	$(MANAGE) load_demo
	@echo ""
	@echo "LocalSpend is starting on http://127.0.0.1:$(PORT)/  (Ctrl-C stops the server and the worker)"
	@echo ""
	@trap 'trap - INT TERM; kill 0' INT TERM; \
	$(MANAGE) db_worker & \
	$(MANAGE) runserver 127.0.0.1:$(PORT); \
	trap - INT TERM; kill 0

test: install-dev lint migrations-check pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install-dev
	$(MANAGE) makemigrations --check --dry-run

pytest: install-dev
	$(BIN)/pytest

bench: install-dev
	@ls bench/*.py >/dev/null 2>&1 || { echo "No benchmarks yet."; exit 0; }
	@for b in bench/*_bench.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) localspend.sqlite3* staticfiles var
