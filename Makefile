# cxpipe: the commands a newcomer and CI use. `make demo`, then `make test`.
CARGO ?= cargo
DEMO_DIR ?= demo
DEMO_END ?= 2026-11-24
DEMO_CUSTOMERS ?= 4000
# The demo uses the dev profile: dependencies are optimised (Cargo.toml), so it runs fast
# without the ~45-minute release build of DataFusion.
CXPIPE = $(CARGO) run --quiet --bin cxpipe --

.PHONY: demo test test-deps fmt-check lint check build bench clean-demo

build:
	$(CARGO) build --bin cxpipe

demo: build
	rm -rf $(DEMO_DIR)
	$(CXPIPE) generate --output $(DEMO_DIR)/input --customers $(DEMO_CUSTOMERS) --days 365 --end $(DEMO_END) --seed 42
	$(CXPIPE) run --input $(DEMO_DIR)/input --output $(DEMO_DIR)/output --date $(DEMO_END)
	@echo "report: $(DEMO_DIR)/output/runs/$(DEMO_END)/report.html"

# One build with Ballista compiled in runs everything, the cluster tests included
# (tests/it/ballista.rs starts a scheduler and two executors on loopback).
test: test-deps fmt-check lint
	$(CARGO) nextest run --all-targets --no-fail-fast --features ballista

# cargo-nextest, the S3 server (moto), Chromium and playwright-core: each installed if missing.
test-deps:
	bash tests/setup.sh

fmt-check:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy --all-targets --features ballista -- -D warnings
	@! grep -rn --include='*.rs' -E '\b(dbg|todo|unimplemented)!' src tests || (echo "remove dbg!/todo!/unimplemented! before committing"; exit 1)

# cxpipe against DuckDB on the same SQL and files (release build; DuckDB from PyPI).
# BENCH_ARGS="--customers 85000" for a larger dataset, "--memory-limit 1GiB" for a bounded run.
BENCH_ARGS ?= --memory-limit 1GiB
bench:
	$(CARGO) build --release --bin cxpipe
	python3 -m pip install --quiet 'duckdb==2.0.1'
	python3 tests/bench/bench.py $(BENCH_ARGS)

clean-demo:
	rm -rf $(DEMO_DIR)
