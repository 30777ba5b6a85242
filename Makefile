# Mutual: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
VENDOR := static/vendor/.stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test demo lint format migrate bench faults screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP) $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

$(VENDOR): node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/htmx-ext-sse/dist/sse.min.js static/vendor/sse.min.js
	cp node_modules/idiomorph/dist/idiomorph-ext.min.js static/vendor/idiomorph-ext.min.js
	touch $@

run: $(STAMP) $(VENDOR)
	$(BIN)/mutual migrate
	$(BIN)/mutual serve --host $(HOST) --port $(PORT)

migrate: $(STAMP)
	$(BIN)/mutual migrate

demo: $(STAMP) $(VENDOR)
	$(BIN)/mutual migrate
	$(BIN)/mutual demo

# tests/test_processes.py starts, stops and kills whole server processes and counts
# how the kernel spreads connections between them: it runs after the rest, alone
# (beside another test worker, a connection was seen reset after a worker's death).
# pytest's exit code 5 says PYTEST_ARGS selected none of it.
SOLO := tests/test_processes.py
test: $(DEV_STAMP) $(VENDOR)
	$(BIN)/pytest -n 2 --dist loadfile --ignore=$(SOLO) $(PYTEST_ARGS)
	$(BIN)/pytest $(SOLO) $(PYTEST_ARGS) || [ $$? -eq 5 ]

# Benchmarks against a floor route, on SQLite and PostgreSQL (docs/performance.md);
# writes bench/results/latest.json. Not part of `make test`.
bench: $(DEV_STAMP) $(VENDOR)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# kill -9 under writers, 20 writers at once, a stream storm; on SQLite and PostgreSQL
# (docs/reliability.md, "Fault harness"). Prints tried / failed per probe. Not part
# of `make test`; tests/test_faults.py runs a short version.
faults: $(DEV_STAMP) $(VENDOR)
	$(BIN)/python -m bench.faults $(FAULTS_ARGS)

# PNGs of every kind of page (phone 390x844, desktop 1280x800) and the PDF's first page,
# from the demo plan in a database of their own, into docs/screenshots/.
screenshots: $(DEV_STAMP) $(VENDOR)
	$(BIN)/python scripts/screenshots.py

# Style (ruff) and types (mypy --strict over backend/, configured in pyproject.toml).
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) node_modules static/vendor
