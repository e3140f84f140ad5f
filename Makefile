# Pressroom: every set-up step lives here, so that a fresh clone needs only `make demo` or
# `make test`. Python >= 3.11 must be on PATH as python3.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install browser pywb postgres test lint bench demo clean

# The browser tests drive Debian's chromium (Playwright never downloads a browser here).
BROWSER := /usr/bin/chromium

install: $(STAMP)

# Re-run only when the dependencies change; safe to run again at any time.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# pywb, the replay tool the archive's WARC files and CDXJ index must play in, is a test tool with
# its own venv: it pins Werkzeug and redis versions that Flask's need not match. The tests drive
# it as a subprocess (tests/pywb_replay.py) and skip with a message when it is absent.
PYWB_VENV ?= .venv-pywb
PYWB_STAMP := $(PYWB_VENV)/.installed

pywb: $(PYWB_STAMP)

$(PYWB_STAMP): Makefile
	test -x $(PYWB_VENV)/bin/python || $(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PYWB_VENV)/bin/python -m pip install --quiet 'pywb==2.10.0'
	touch $(PYWB_STAMP)

browser:
	@test -x $(BROWSER) || { echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The tests start a throwaway PostgreSQL cluster of their own (tests/postgres.py) from Debian's
# server binaries; no system service is used.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql for the tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

# Twice: the catalogue on SQLite, then on PostgreSQL (a cluster started and stopped by the tests).
test: install browser pywb postgres
	$(PY) -m pytest
	PRESSROOM_TEST_DATABASE=postgresql $(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check archive indexer webapp pressroom tests bench
	$(VENV)/bin/mypy

bench: install
	$(PY) bench/bench_crawl.py
	$(PY) bench/bench_clean.py
	$(PY) bench/bench_index.py
	$(PY) bench/bench_refresh.py
	$(PY) bench/bench_requisites.py
	$(PY) bench/bench_workers.py
	$(PY) bench/bench_nodes.py
	$(PY) bench/bench_ratelimit.py

demo: install
	bash demo/run.sh

clean:
	rm -rf $(VENV) $(PYWB_VENV) .demo-data .pytest_cache .mypy_cache .ruff_cache build
