# The two commands a newcomer needs:
#   make demo   run the proxy on an embedded S3 seeded with sample files
#   make test   install everything the tests need, then lint, type-check and test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast check pytest install-dev install-demo install-node install-system bench install-nginx

$(BIN)/python:
	@echo "make: creating $(VENV) and upgrading its pip"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The first install shows pip's progress (a minute or two on a fresh $(VENV)); once the package is
# in $(VENV) (an earlier demo or dev install), a change to pyproject.toml updates it quietly.
$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	@if [ -e $(BIN)/s3-stream-proxy ]; then echo "make demo: updating $(VENV) after a change to pyproject.toml"; \
	else echo "make demo: installing s3-stream-proxy and the demo's embedded S3 (moto) into $(VENV), once"; fi
	$(BIN)/pip install $(if $(wildcard $(BIN)/s3-stream-proxy),--quiet,--progress-bar on) -e '.[demo]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,deploy]'
	touch $@

# SAM CLI pins botocore releases aioboto3 cannot use, so it gets a virtualenv of its own.
.venv-sam/bin/sam: deploy/requirements-sam.txt
	$(PYTHON) -m venv .venv-sam
	.venv-sam/bin/pip install --quiet -r deploy/requirements-sam.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The Node.js design the benchmark compares with (@aws-sdk/client-s3; aws-lambda-ric is the root's).
benchmarks/node/node_modules/.installed: benchmarks/node/package.json benchmarks/node/package-lock.json
	npm ci --prefix benchmarks/node --no-audit --no-fund --loglevel=error
	touch $@

# Debian packages the tests need, installed only when missing: headless Chromium for the
# browser checks, poppler-utils (pdftoppm) to render the demo PDF, and a C/C++ toolchain with
# cmake, which `npm ci` uses to build the native part of AWS's Node.js runtime client; nginx
# for the benchmark's smoke run (tests/test_bench_smoke.py).
SYSTEM_PACKAGES := chromium poppler-utils cmake g++ make nginx
SYSTEM_COMMANDS := chromium pdftoppm cmake g++ make nginx
install-system:
	@missing=""; for c in $(SYSTEM_COMMANDS); do command -v $$c >/dev/null 2>&1 || missing="$$missing $$c"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
		else echo "missing:$$missing; run: sudo apt-get install $(SYSTEM_PACKAGES)" >&2; exit 1; fi; fi

install-demo: $(VENV)/.demo-installed
install-dev: $(VENV)/.dev-installed .venv-sam/bin/sam
install-node: node_modules/.installed benchmarks/node/node_modules/.installed

demo: install-demo
	$(BIN)/s3-stream-proxy demo $(DEMO_ARGS)

test: install-system install-dev install-node check pytest

# The benchmark suite of docs/benchmarks.md (about 10 minutes): nginx as S3 and as the peer, moto,
# s3rver, serve, the Lambda runtime and the Node.js design; rewrites docs/benchmarks.md and its plots.
# BENCH_ARGS=--quick for tiny sizes and one round; see `.venv/bin/python benchmarks/suite.py --help`.
bench: install-nginx $(VENV)/.dev-installed install-node
	$(BIN)/python benchmarks/suite.py $(BENCH_ARGS)

# nginx alone, installed only when missing, as install-system does for the test packages.
install-nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || \
	if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
	else echo "missing: nginx; run: sudo apt-get install nginx" >&2; exit 1; fi

# The fast loop: unit, model and property tests on moto through uvicorn; leaves out s3rver, the
# Lambda door, Chromium, AWS's runtime clients, the deploy checks and the demo processes.
# Tests run in FAST_WORKERS processes (pytest-xdist); FAST_WORKERS=0 runs them in this one.
FAST := not (s3rver or lambda_door or browser or oracle or deploy or demo)
FAST_WORKERS ?= auto
test-fast: $(VENV)/.dev-installed
	$(BIN)/pytest -m "$(FAST)" -n $(FAST_WORKERS) $(PYTEST_ARGS)

check:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/bandit -q -c pyproject.toml -r service s3proxy_dev
	$(BIN)/cfn-lint template.yaml
	$(BIN)/hadolint Dockerfile

# pytest under coverage.py, child processes included (patch = subprocess in pyproject.toml), then
# one report for s3proxy_dev and the gated one for service (fail_under). pytest's own status wins:
# 1 on failures, 5 when no test ran; a passing run below fail_under exits 2.
pytest:
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS); status=$$?; \
	$(BIN)/coverage combine --quiet || exit 1; \
	echo "coverage of s3proxy_dev (developer tools, not gated):" \
		"$$($(BIN)/coverage report --include='s3proxy_dev/*' --fail-under=0 --format=total)%"; \
	echo "coverage of service, branches included (gate: fail_under in pyproject.toml):"; \
	$(BIN)/coverage report || { [ $$status -ne 0 ] || status=2; }; \
	exit $$status
