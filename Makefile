# Herald: `make run` starts the embedded service, `make test` runs the suite.
# Needs only python3 (3.11+) on PATH; `make test` also brings up PostgreSQL,
# Redis and RabbitMQ on loopback through scripts/ensure-services.sh.

PYTHON      ?= python3
VENV        := .venv
VENV_STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_NO_INPUT := 1

.DEFAULT_GOAL := help

.PHONY: help venv .venv run services test bench clean distclean

help:
	@echo "make run        start Herald embedded (SQLite, in-process broker; PORT=8080)"
	@echo "make test       run the test suite (PYTEST_ARGS='-k name' to narrow it)"
	@echo "make services   make sure PostgreSQL, Redis and RabbitMQ answer on loopback"
	@echo "make bench      run the load benchmarks"
	@echo "make clean      remove caches and build leftovers (distclean: also .venv, .herald)"

# `make .venv` / `make venv`: the virtualenv with Herald installed editable,
# reinstalled whenever pyproject.toml changes (the stamp is older then).
venv .venv: $(VENV_STAMP)

$(VENV_STAMP): pyproject.toml
	@if [ ! -x $(VENV)/bin/python ]; then \
	  if ! $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null \
	     && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing python3-venv (Debian's python3 ships without ensurepip)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq \
	      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; \
	  fi; \
	  echo "creating $(VENV) with $$(command -v $(PYTHON))"; \
	  $(PYTHON) -m venv $(VENV); \
	fi
	@echo "installing Herald into $(VENV) (pip install -e '.[test]')"
	@$(VENV)/bin/pip install -qq -e '.[test]'
	@touch $@

run: $(VENV_STAMP)
	$(VENV)/bin/herald run

services:
	@bash scripts/ensure-services.sh

test: $(VENV_STAMP) services
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: $(VENV_STAMP) services
	$(VENV)/bin/python -m tests.load.run_all

clean:
	rm -rf .pytest_cache .hypothesis build dist *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) .herald .bench
