# kefu — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
PIPFLAGS := --disable-pip-version-check -q -c constraints.txt

.PHONY: install install-dev browser run test lint bench clean

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

test: install-dev
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .

bench: install-dev
	$(BIN)/python -m bench.run --out bench/REPORT.md
	$(BIN)/python -m bench.metrics --out bench/METRICS.md

clean:
	rm -rf $(VENV) var/*.db var/*.db-wal var/*.db-shm
