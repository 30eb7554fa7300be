# The two commands a newcomer needs:
#   make demo   run the proxy on an embedded S3 seeded with sample files
#   make test   install everything the tests need, then lint, type-check and test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test check pytest install-dev install-demo install-node install-system

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[demo]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian packages the browser tests need (headless Chromium); installed only when missing.
install-system:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "Chromium is missing: run 'sudo apt-get install chromium'" >&2; exit 1; fi; }

install-demo: $(VENV)/.demo-installed
install-dev: $(VENV)/.dev-installed
install-node: node_modules/.installed

demo: install-demo
	$(BIN)/s3-stream-proxy demo

test: install-system install-dev install-node check pytest

check:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

pytest:
	$(BIN)/pytest
