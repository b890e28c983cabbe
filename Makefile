# The README's two commands: `make run` and `make test` (plus `make bench`, `make lint`).
# Everything installs into .venv from PyPI and npm; Chromium for the browser tests from Debian.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
BUN_VERSION := 1.4.5
export PATH := $(CURDIR)/$(VENV)/tools/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false
export NPM_CONFIG_REGISTRY ?= https://registry.npmjs.org

.PHONY: run test bench lint install install-dev browser clean

run: install
	$(BIN)/python -m investment_app serve

test: install-dev browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: install-dev
	$(BIN)/python -m tests.benchmarks

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

install: $(VENV)/.runtime-installed

install-dev: $(VENV)/.dev-installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/npm install --prefix $(VENV)/tools --no-audit --no-fund --loglevel=error bun@$(BUN_VERSION)
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.runtime-installed
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# Debian's chromium and chromedriver for the browser tests, when missing and we are root.
browser:
	@if ! command -v chromium >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-dejavu-core; \
		else echo "chromium is missing: install Debian's chromium and chromium-driver"; fi; \
	fi

clean:
	rm -rf .web .states tests/artifacts
