# ropsfeed — the four contract targets (DESIGN.md §8) plus helpers. Each installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test crawl lint mirror build-mirror analyse clean

# The project's own modules compiled to bytecode where Python keeps it (__pycache__): with
# PYTHONDONTWRITEBYTECODE set, as on the machines this project runs on, Python never writes it, and
# every `ropsfeed` process and worker compiled the modules it imports (and alembic the migrations)
# from source again. compileall skips what is up to date.
install: $(STAMP)
	@$(BIN)/python -m compileall -q -j 0 aggregator scrapers db

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: install
	$(BIN)/ropsfeed demo

# one pytest worker per core, a test file per worker at a time: most tests wait for a `ropsfeed` process
# that keeps one core busy, and a file's module-scoped fixtures are built once
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n auto --dist loadfile

crawl: install
	$(BIN)/ropsfeed crawl

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

mirror: install
	$(BIN)/ropsfeed mirror serve

# Every source with a scrapers/mirror/sites/<id>.toml, or only those named: make build-mirror SOURCES="mcps rops-kielce"
build-mirror: install
	$(BIN)/python -m scrapers.mirror.build $(SOURCES)

# Datasette on the demo database (built first if missing), read-only, with metadata.yml's canned queries.
analyse: install
	test -f ropsfeed.db || $(BIN)/ropsfeed demo --db sqlite:///ropsfeed.db
	$(BIN)/ropsfeed db upgrade --db sqlite:///ropsfeed.db
	$(BIN)/python -c "import sqlite3; sqlite3.connect('ropsfeed.db').execute('PRAGMA wal_checkpoint(TRUNCATE)')"
	$(BIN)/datasette serve --immutable ropsfeed.db -m metadata.yml --host 127.0.0.1 --port 8001

clean:
	rm -rf $(VENV) out ropsfeed.db ropsfeed.db-wal ropsfeed.db-shm .pytest_cache .ruff_cache
