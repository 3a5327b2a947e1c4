# Sodam: the two commands of the README are `make run` and `make test`.
# Everything installs inside the project: .venv (Python) and web/node_modules (the web client).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
UV := $(BIN)/uv
PYTEST_ARGS ?=

.PHONY: run test lint fmt check unit integration e2e lock clean deps-system serve-dev help \
	web-build web-dev web-check web-e2e

help:
	@echo "make run    - install and start Sodam at http://127.0.0.1:8080 (SQLite, ./var)"
	@echo "make test   - install what the tests need and run the whole suite"
	@echo "make lint   - ruff, mypy --strict, import contracts"
	@echo "make test-slow - the long fault-test variants (60 s database outage, 30 s partition)"
	@echo "make lock   - recompile the hash-pinned requirements from pyproject.toml"
	@echo "make web-dev - the web client with hot reload on :5173, proxying to sodam serve on :8080"

$(BIN)/uv: requirements/tools.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements/tools.txt
	@touch $@

$(VENV)/.main-installed: $(BIN)/uv requirements/main.txt pyproject.toml
	$(UV) pip install --quiet --python $(BIN)/python --require-hashes -r requirements/main.txt
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.main-installed requirements/dev.txt
	$(UV) pip install --quiet --python $(BIN)/python --require-hashes -r requirements/dev.txt
	@touch $@

run: $(VENV)/.main-installed web-build
	$(BIN)/sodam serve

deps-system:
	@bash scripts/ensure-system-deps.sh

lint: $(VENV)/.dev-installed
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: $(VENV)/.dev-installed
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

test: $(VENV)/.dev-installed deps-system lint web-check
	$(BIN)/pytest $(PYTEST_ARGS)
	$(MAKE) web-e2e

unit: $(VENV)/.dev-installed
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

# The long fault-test variants (PostgreSQL down 60 s, a node cut off from Redis 30 s), which
# `make test` leaves out (pytest marker "slow"; docs/fault-tests.md).
.PHONY: test-slow
test-slow: $(VENV)/.dev-installed deps-system
	$(BIN)/pytest -m slow tests/e2e/faults $(PYTEST_ARGS)

lock: $(BIN)/uv
	$(UV) pip compile pyproject.toml --generate-hashes --python-version 3.11 --no-header --no-annotate -q -o requirements/main.txt
	$(UV) pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 --no-header --no-annotate -q -o requirements/dev.txt
	$(UV) pip compile requirements/tools.in --generate-hashes --python-version 3.11 --no-header --no-annotate -q -o requirements/tools.txt

# --- web client (web/): npm ci from the lock, API types generated from the server's OpenAPI -------
WEB_DEPS := web/node_modules/.installed

$(WEB_DEPS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Builds web/dist, which `sodam serve` serves at /. Regenerates web/src/api/schema.gen.ts first.
web-build: $(VENV)/.main-installed $(WEB_DEPS)
	cd web && npm run build

web-dev: $(VENV)/.main-installed $(WEB_DEPS)
	cd web && npm run dev

# Type check (strict) and the Vitest unit tests of the stores.
web-check: $(VENV)/.main-installed $(WEB_DEPS)
	cd web && npm run gen:api && npm run typecheck && npm test

# Playwright in the system Chromium against a real `sodam serve` (started by the test setup).
web-e2e: web-build deps-system
	cd web && npm run e2e

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# --- benchmark (bench/chat; docs/performance.md): run by hand, never by the test suite ---------
# Each target starts its own server (SQLite in a temp dir, or PostgreSQL + Redis + two nodes),
# writes bench/results/<scenario>-<backend>-<time>.json and prints the result against the targets.
# BENCH_ARGS passes options through, e.g. BENCH_ARGS="--rev HEAD --duration 10".
BENCH := $(BIN)/python -m bench.chat
BENCH_ARGS ?=
BENCH_SCENARIOS := seed throughput throughput-pg rooms bigroom idle storm storm50 history

.PHONY: bench $(addprefix bench-,$(BENCH_SCENARIOS))

bench: $(VENV)/.dev-installed deps-system
	$(BENCH) main $(BENCH_ARGS)

$(addprefix bench-,$(BENCH_SCENARIOS)): bench-%: $(VENV)/.dev-installed deps-system
	$(BENCH) $* $(BENCH_ARGS)

# File upload benchmark (bench/files; docs/performance.md "Files"): a 300 MiB tus upload to local
# disk and to S3 (a moto server it starts; BENCH_ARGS="--s3-server s3rver" for s3rver, installed
# from bench/files/s3rver on first use), and 50 concurrent 10 MiB uploads while two users chat.
# Each run starts its own server; results in bench/results/files*-<time>.json.
# BENCH_ARGS passes options through, e.g. BENCH_ARGS="--repeat 5 --chunk-mib 8".
BENCH_FILES := $(BIN)/python -m bench.files

.PHONY: bench-files bench-files-local bench-files-s3 bench-files-concurrent

bench-files: $(VENV)/.dev-installed
	$(BENCH_FILES) all $(BENCH_ARGS)

bench-files-local bench-files-s3 bench-files-concurrent: bench-files-%: $(VENV)/.dev-installed
	$(BENCH_FILES) $* $(BENCH_ARGS)

# Web client benchmark (web/bench/measure.mjs; docs/performance.md "Web client"): the built web/dist
# in the system Chromium against its own `sodam serve`; prints JSON, writes web/bench/results/.
.PHONY: bench-web
bench-web: web-build deps-system
	cd web && npm run bench
