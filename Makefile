# The two commands a newcomer needs:
#   make demo   run the proxy on an embedded S3 seeded with sample files
#   make test   install everything the tests need, then lint, type-check and test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test check pytest install-dev install-demo install-node

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

install-demo: $(VENV)/.demo-installed
install-dev: $(VENV)/.dev-installed
install-node: node_modules/.installed

demo: install-demo
	$(BIN)/s3-stream-proxy demo

test: install-dev install-node check pytest

check:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

pytest:
	$(BIN)/pytest
