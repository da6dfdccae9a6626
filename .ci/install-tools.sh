#!/usr/bin/env bash
# Installs every tool the build and the tests need, skipping what is already there.
# Only package registries are used (crates.io, npm, apt): nothing downloads its own binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130

log() { printf '[install] %s\n' "$*"; }

# Runs a long step with a heartbeat: cargo can sit on one crate for minutes (aws-lc-sys, swc),
# so a line with the elapsed time every 30 s says the step is alive and how far along it is.
long() {
  local what=$1; shift
  local start=$SECONDS
  ( while sleep 30; do log "… still $what ($(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s so far)"; done ) &
  local beat=$!
  local status=0
  "$@" || status=$?
  kill "$beat" 2>/dev/null; wait "$beat" 2>/dev/null || true
  local took="$(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s"
  if [ "$status" -eq 0 ]; then log "$what: done in $took"; else log "$what: FAILED after $took (exit $status)"; fi
  return "$status"
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# Chromium for the browser tests; a CJK font so the Chinese UI renders in screenshots.
missing_apt=()
command -v chromium >/dev/null 2>&1 || missing_apt+=(chromium)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing_apt+=(fonts-wqy-microhei)
# PostgreSQL for the store's conformance tests (.ci/postgres.sh runs a throwaway cluster).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing_apt+=(postgresql)
if [ ${#missing_apt[@]} -gt 0 ]; then
  log "installing from Debian: ${missing_apt[*]} (about a minute)"
  export DEBIAN_FRONTEND=noninteractive
  long "installing ${missing_apt[*]} from Debian" sh -c 'apt-get update -qq && apt-get install -y -qq "$@" >/dev/null' apt "${missing_apt[@]}"
fi

if ! command -v cargo-nextest >/dev/null 2>&1; then
  log "installing cargo-nextest (about 5 minutes)"
  long "installing cargo-nextest" cargo install cargo-nextest --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 3 minutes; must match the wasm-bindgen crate pinned in Cargo.toml)"
  # Not --locked: its lock file pins a crate version the registry no longer serves.
  long "installing wasm-bindgen-cli" cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes on two cores; newer versions need a newer rustc)"
  long "installing cargo-leptos" cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --force
fi

TRUNK_VERSION=0.21.14
if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  log "installing trunk $TRUNK_VERSION for the widget (about 12 minutes; 0.22 needs a newer rustc)"
  long "installing trunk" cargo install trunk --version "$TRUNK_VERSION" --locked --force
fi

SCHEMATHESIS_VERSION=4.32.5
if [ "$(target/st-venv/bin/schemathesis --version 2>/dev/null | awk '{print $3}')" != "$SCHEMATHESIS_VERSION" ]; then
  log "installing schemathesis $SCHEMATHESIS_VERSION (PyPI) into target/st-venv for the API contract test (under a minute)"
  python3 -m venv target/st-venv
  long "installing schemathesis" target/st-venv/bin/pip install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

log "installing end-to-end test dependencies (Playwright without its browser download, binaryen's wasm-opt)"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ -f end2end/package-lock.json ]; then
  long "installing the end-to-end test dependencies from npm" sh -c 'cd end2end && npm ci --no-audit --no-fund --loglevel=error'
fi
# Trunk builds the widget with `cargo build --offline` (Trunk.toml): every crate of the lock file
# must be in the local registry before it runs, which on a fresh machine nothing else has done.
long "fetching the crates of Cargo.lock (~500 MB; under a minute on a fast link)" cargo fetch
log "done"
