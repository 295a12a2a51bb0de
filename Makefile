# The two commands a newcomer runs: `make demo` and `make test`. Both build the virtual
# environment first, so a fresh machine needs nothing but Python 3.11+.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck pytest contract properties migrations seeds bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The demo's database: a new SQLite file each time (any URL works: the demo wants one that
# holds no project yet); `agentkeel status` then shows what it left.
DEMO_DB ?= agentkeel-demo.db

demo: install
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	AGENTKEEL_DATABASE_URL=$(DEMO_DB) $(BIN)/agentkeel demo
	AGENTKEEL_DATABASE_URL=$(DEMO_DB) $(BIN)/agentkeel status

test: lint typecheck pytest

lint: install
	$(BIN)/ruff check src tests migrations bench
	$(BIN)/ruff format --check src tests migrations bench

typecheck: install
	$(BIN)/mypy

# After a passing run without a PostgreSQL server, the last line says so (CI sets the URL).
pytest: install
	$(BIN)/pytest
	@if [ -z "$$AGENTKEEL_TEST_POSTGRES_URL" ]; then \
		echo "PostgreSQL was not tested: set AGENTKEEL_TEST_POSTGRES_URL=postgresql://user@host:5432/db to include it."; \
	fi

contract: install
	$(BIN)/pytest tests/contract

properties: install
	$(BIN)/pytest tests/properties

migrations: install
	$(BIN)/pytest tests/migrations

seeds: install
	$(BIN)/pytest tests/seeds

bench: install
	$(BIN)/python -m bench.run $(ARGS)

docs: install
	$(BIN)/agentkeel schema-doc > docs/schema.md
	$(BIN)/agentkeel api-doc > docs/api.md
	$(BIN)/agentkeel model-doc > docs/model.md
	# Through a file of its own: the command imports the module it rewrites.
	$(BIN)/agentkeel columns-module > columns.py.new && mv columns.py.new src/agentkeel/schema/columns.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
