# Herald: `make run` starts the embedded service, `make test` runs the suite.
# Needs only python3 (3.11+) on PATH; `make test` also brings up PostgreSQL,
# Redis and RabbitMQ on loopback through scripts/ensure-services.sh.

PYTHON      ?= python3
VENV        := .venv
# Two stamps: running needs Herald and its dependencies only; the tests add
# the `test` extras (Playwright alone is ~165 MB). Each is redone when
# pyproject.toml changes (the stamp is older then).
RUN_STAMP   := $(VENV)/.installed-run
TEST_STAMP  := $(VENV)/.installed-test
PYTEST_ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1

.DEFAULT_GOAL := help

.PHONY: help venv .venv venv-test run services test test-unit test-fast bench clean distclean

help:
	@echo "make run        start Herald embedded (SQLite, in-process broker; PORT=8080)"
	@echo "make test       run the whole test suite (PYTEST_ARGS='-k name' to narrow it)"
	@echo "make test-unit  run tests/unit only (seconds; no services needed)"
	@echo "make test-fast  run tests/unit and tests/integration (no real processes started)"
	@echo "make services   make sure PostgreSQL, Redis and RabbitMQ answer on loopback"
	@echo "make bench      run the load benchmarks"
	@echo "make clean      remove caches and build leftovers (distclean: also .venv, .herald)"

# `make .venv` / `make venv`: the virtualenv with Herald installed editable
# (what running needs); `make venv-test` adds the test extras.
venv .venv: $(RUN_STAMP)
venv-test: $(TEST_STAMP)

# The interpreter: a venv from $(PYTHON), installing Debian's python3-venv
# first when ensurepip is missing and we may.
$(VENV)/bin/python:
	@if ! $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null \
	   && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing python3-venv (Debian's python3 ships without ensurepip)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq \
	    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; \
	fi
	@echo "creating $(VENV) with $$(command -v $(PYTHON))"
	@$(PYTHON) -m venv $(VENV)

# --no-compile: Python compiles what it imports on first import; pip would
# compile everything (phonenumbers alone is 48 MB of data modules).
$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	@echo "installing Herald into $(VENV) (pip install -e .)"
	@$(VENV)/bin/pip install -qq --no-compile -e .
	@touch $@

# The test extras include Herald itself, so this stamp also stands for the run one.
$(TEST_STAMP): pyproject.toml | $(VENV)/bin/python
	@echo "installing Herald and its test tools into $(VENV) (pip install -e '.[test]')"
	@$(VENV)/bin/pip install -qq --no-compile -e '.[test]'
	@touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(VENV)/bin/herald run

services:
	@bash scripts/ensure-services.sh

test: $(TEST_STAMP) services
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-unit: $(TEST_STAMP)
	$(VENV)/bin/pytest tests/unit $(PYTEST_ARGS)

# Unit and integration tests: the real services, but no processes of ours
# started (tests/e2e and tests/faults do that).
test-fast: $(TEST_STAMP) services
	$(VENV)/bin/pytest tests/unit tests/integration $(PYTEST_ARGS)

bench: $(TEST_STAMP) services
	$(VENV)/bin/python -m tests.load.run_all $(BENCH_ARGS)

clean:
	rm -rf .pytest_cache .hypothesis build dist *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) .herald .bench
