# kefu — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
PIPFLAGS := --disable-pip-version-check -q -c constraints.txt

.PHONY: install install-dev browser run demo test lint bench loadtest fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --disable-pip-version-check -q --upgrade pip setuptools wheel

# Idempotent: re-installs only when pyproject.toml or the constraints change.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install $(PIPFLAGS) -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install $(PIPFLAGS) -e '.[dev,transformers]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev browser

# Debian's chromium for the console's browser tests (Playwright drives it); they are skipped where it cannot be had.
browser:
	@command -v chromium >/dev/null 2>&1 || { (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)) >/dev/null 2>&1 || \
	  echo "chromium could not be installed: the console's browser tests will be skipped"; }

run: install
	$(BIN)/kefu db upgrade
	$(BIN)/kefu serve

# A made-up team's nine weeks of traffic in ./var/kefu.db (see `kefu demo --help`); run it before `make run`.
demo: install
	$(BIN)/kefu db upgrade
	$(BIN)/kefu demo

test: install-dev
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Hostile input with many more examples per property than `make test` (bounded; FUZZ_EXAMPLES per property).
fuzz: install-dev
	$(BIN)/python tests/hostile/fuzz_run.py --examples $(or $(FUZZ_EXAMPLES),1000)

lint: install-dev
	$(BIN)/ruff check .

# Every benchmark, then bench/REPORT.md and bench/results.json gathering their figures (about 30 min).
bench: install-dev
	$(BIN)/python -m bench.run --out bench/CLASSIFICATION.md
	$(BIN)/python -m bench.metrics --out bench/METRICS.md
	$(BIN)/python -m bench.loadtest --out bench/loadtest.json
	$(BIN)/python -m bench.report

# Real `kefu serve` processes under a steady and a burst load on 127.0.0.1 (SQLite; PostgreSQL when it answers).
loadtest: install-dev
	$(BIN)/python -m bench.loadtest --out bench/loadtest.json $(LOADTEST_ARGS)
	$(BIN)/python -m bench.report

clean:
	rm -rf $(VENV) var/*.db var/*.db-wal var/*.db-shm
