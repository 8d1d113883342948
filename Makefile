# Maverick — the two commands a newcomer needs:
#   make run    install what is missing, build, serve http://127.0.0.1:3000 with a demo agency
#   make test   every test: Rust on SQLite and on PostgreSQL, Playwright in Chromium, the API fuzzer
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export CARGO_TERM_COLOR ?= always
# Where cargo puts builds; CI points it outside the clone so repeated runs reuse dependencies.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
SERVER_BIN := $(TARGET_DIR)/debug/server
PG_DIR := $(or $(TMPDIR),/tmp)/maverick-pg-$(shell id -u)

.PHONY: help setup assets build run release bench bench-prospects page-weight test test-wasm-types test-sqlite test-postgres test-api-fuzz test-e2e e2e-deps clean

help:
	@echo "make run      build and serve http://127.0.0.1:3000 with the demo agency (SQLite under data/)"
	@echo "make test     all tests: Rust on SQLite and PostgreSQL, the Playwright suite, the API fuzzer"
	@echo "make release  optimised build for self-hosting: target/release/server + target/site"
	@echo "make bench    dashboard and portal benchmarks on SQLite and PostgreSQL (figures for docs/performance.md)"
	@echo "make bench-prospects  entity resolution vs Splink on 1M labelled person records (BENCH_PROSPECTS_RECORDS)"
	@echo "make page-weight  bytes a first visit downloads, measured in Chromium (figures for docs/performance.md)"

setup:
	@bash scripts/setup.sh

# Front-end assets from npm (ECharts), copied into public/vendor so our host serves them.
assets:
	@bash scripts/vendor-assets.sh

# The site: /pkg file names carry content hashes (cached for a year), the WASM is built small
# (Cargo.toml's wasm-dev profile) and stripped, and every asset is precompressed (br, gzip) by
# scripts/site-finish.mjs. docs/performance.md has what this costs and saves.
build: setup assets
	LEPTOS_HASH_FILES=true cargo leptos build
	node scripts/site-finish.mjs target/site "$(TARGET_DIR)/debug" --strip-wasm

run: build
	@mkdir -p data
	LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_ADDR=$${LEPTOS_SITE_ADDR:-127.0.0.1:3000} "$(SERVER_BIN)" --demo serve

# wasm-opt comes from npm's binaryen (pinned in package.json): Debian's binaryen 108 emits a WASM
# that fails to hydrate ("WebAssembly.Table.set(): Argument 1 is invalid"; docs/performance.md).
release: assets
	@bash scripts/setup.sh --release
	@node_modules/.bin/wasm-opt --version | grep -q 'version 132' || { echo "node_modules/.bin/wasm-opt is not binaryen 132: run npm ci" >&2; exit 1; }
	PATH="$(CURDIR)/node_modules/.bin:$$PATH" LEPTOS_HASH_FILES=true cargo leptos build --release
	node scripts/site-finish.mjs target/site "$(TARGET_DIR)/release"
	@echo "Built $(TARGET_DIR)/release/server and target/site — see README, 'Self-hosting'."

# Prospects: Maverick's resolver and Splink (in a virtualenv) on the same generated, labelled file.
bench-prospects:
	@bash scripts/bench-prospects.sh

# Benchmarks (not part of `make test`), on SQLite and on a throwaway PostgreSQL: every dashboard over
# a generated agency (BENCH_WORKSPACES, BENCH_LEADS, BENCH_SENDERS, BENCH_DAYS), and the client
# portal's board page and stage move over HTTP (BENCH_PORTAL_LEADS).
bench:
	cargo build --release -p backend --example dashboards_bench
	cargo build --release -p server --example host_bench
	cargo build --release -p backend --example contacts_bench
	cargo build --release -p backend --example personalization_bench
	cargo build --release -p server --bin server --example webhook_flood --example event_bench
	"$(TARGET_DIR)/release/examples/dashboards_bench"
	"$(TARGET_DIR)/release/examples/host_bench"
	"$(TARGET_DIR)/release/examples/contacts_bench"
	"$(TARGET_DIR)/release/examples/personalization_bench"
	BENCH_SERVER="$(TARGET_DIR)/release/server" "$(TARGET_DIR)/release/examples/webhook_flood"
	BENCH_SERVER="$(TARGET_DIR)/release/server" "$(TARGET_DIR)/release/examples/event_bench"
	@bash scripts/pg-throwaway.sh stop "$(PG_DIR)-bench"
	@url=$$(bash scripts/pg-throwaway.sh start "$(PG_DIR)-bench"); \
	  trap 'bash scripts/pg-throwaway.sh stop "$(PG_DIR)-bench"' EXIT; \
	  BENCH_DATABASE_URL="$$url" "$(TARGET_DIR)/release/examples/dashboards_bench" && \
	  BENCH_DATABASE_URL="$$url" "$(TARGET_DIR)/release/examples/host_bench" && \
	  BENCH_DATABASE_URL="$$url" "$(TARGET_DIR)/release/examples/contacts_bench" && \
	  BENCH_DATABASE_URL="$$url" BENCH_SERVER="$(TARGET_DIR)/release/server" "$(TARGET_DIR)/release/examples/event_bench"
	@rm -f "$${TMPDIR:-/tmp}"/maverick-bench/*.db*

# What a first visit downloads (sign-in, a chart page, a second navigation), in Chromium on a cold
# cache, against the site `make build` serves. Also part of the Playwright suite, with its targets.
page-weight: build e2e-deps
	@rm -f "$(TARGET_DIR)/page-weight.txt"
	cd end2end && PAGE_WEIGHT_REPORT="$(TARGET_DIR)/page-weight.txt" MAVERICK_BIN="$(SERVER_BIN)" E2E_SITE_ROOT="$(CURDIR)/target/site" \
	  npx playwright test tests/weight.spec.ts --reporter=line
	@echo; cat "$(TARGET_DIR)/page-weight.txt"; ls -l target/site/pkg | grep -E '\.(wasm|js|css)(\.br|\.gz)?$$'

test: test-wasm-types test-sqlite test-postgres test-e2e test-api-fuzz

# The browser bundle with its full view types, as `make release` compiles it. cargo-leptos erases
# component types in dev builds (`--cfg erase_components`), so `make run` and the Playwright build
# can pass while the release WASM overflows rustc's type-depth limit (issue 16). A plain cargo
# build of the hydrate crate sees the same types in ~30 s warm (~2 min cold) instead of the
# ~4 min of the optimised release WASM; docs/performance.md has the measurements.
test-wasm-types: setup
	RUSTFLAGS= cargo build -p frontend --lib --target wasm32-unknown-unknown

# Every crate's tests, in parallel. (The host's tests once ran one at a time because a page
# render hung now and then; the cause was leptos' process-wide resource suppression during route
# generation, fixed in server/src/router.rs — see docs/status.md.)
RUST_TESTS = cargo test -p backend -p app -p server

# Rust unit and integration tests against SQLite (a fresh file per test).
test-sqlite:
	@rm -rf "$${TMPDIR:-/tmp}/maverick-tests"
	$(RUST_TESTS)

# The same tests against PostgreSQL: TEST_DATABASE_URL if given, else a throwaway cluster.
test-postgres:
	@if [ -n "$${TEST_DATABASE_URL:-}" ]; then \
	  echo "==> PostgreSQL tests against TEST_DATABASE_URL"; \
	  $(RUST_TESTS); \
	else \
	  bash scripts/pg-throwaway.sh stop "$(PG_DIR)"; \
	  url=$$(bash scripts/pg-throwaway.sh start "$(PG_DIR)"); \
	  echo "==> PostgreSQL tests against a throwaway cluster ($$url)"; \
	  trap 'bash scripts/pg-throwaway.sh stop "$(PG_DIR)"' EXIT; \
	  TEST_DATABASE_URL="$$url" $(RUST_TESTS); \
	fi

e2e-deps:
	@cd end2end && if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund; fi

# Playwright against a freshly built server (demo data in a temporary database).
test-e2e: build e2e-deps
	cd end2end && MAVERICK_BIN="$(SERVER_BIN)" E2E_SITE_ROOT="$(CURDIR)/target/site" npx playwright test

# REST v1 attacked by an independent OpenAPI fuzzer (Schemathesis from PyPI), after the
# Playwright build has made the server binary.
test-api-fuzz: build
	bash scripts/api-fuzz.sh "$(SERVER_BIN)" 25

clean:
	cargo clean
	rm -rf target/site node_modules public/vendor end2end/node_modules end2end/test-results end2end/playwright-report
