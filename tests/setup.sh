#!/usr/bin/env bash
# Installs what the test suite needs beyond cargo, idempotently: `make test` runs it first, so a
# fresh clone needs nothing installed by hand. Each step is skipped when its tool is present.
#   cargo-nextest, rustfmt, clippy   the test runner and the gates
#   moto[server]                     a real S3-compatible server on loopback (tests/it/s3.rs)
#   chromium, playwright-core        real headless Chromium for the report (tests/it/report.rs)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-nextest >/dev/null 2>&1; then
  cargo install --locked cargo-nextest
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

if ! python3 -c 'import moto.server, flask' >/dev/null 2>&1; then
  python3 -m pip install --quiet 'moto[server]'
fi

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    echo "tests/setup.sh: install Debian's chromium (apt-get install chromium) as root, then rerun" >&2
    exit 1
  fi
  sudo_if_needed=""
  [ "$(id -u)" -ne 0 ] && sudo_if_needed="sudo"
  $sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_if_needed apt-get install -y -qq --no-install-recommends \
    chromium fonts-dejavu-core >/dev/null
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm install --no-audit --no-fund --silent)
fi
