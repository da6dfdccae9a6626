#!/usr/bin/env bash
# Runs every check and test of the project (the README's test command; .ci/run calls it):
#   1. cargo fmt --check
#   2. clippy -D warnings: the server side (ssr, all targets) and the browser side (hydrate, wasm)
#   3. unit and integration tests (cargo nextest): the real server on port 0 against the fake code
#      hosts, the store conformance suite on sled and PostgreSQL, two replicas on one PostgreSQL
#      (a throwaway cluster started here and stopped at the end: .ci/postgres.sh)
#   4. browser tests (Playwright in Debian Chromium) against a cargo-leptos build and the
#      Trunk-built widget
#   5. the build service API against its OpenAPI document (schemathesis)
# Prerequisites: bash .ci/install-tools.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# Never let Debian's old binaryen shadow the npm one (it breaks hydration in release builds).
export PATH="$PWD/end2end/node_modules/.bin:$PATH"

# Logs and the data of the servers started here; removed at the end (a full disk fails the next run).
logs=$(mktemp -d)
export E2E_DATA_DIR="$logs/e2e-data"
mkdir -p "$E2E_DATA_DIR"
# Stopping PostgreSQL is a no-op when it was never started.
trap 'bash .ci/postgres.sh stop >/dev/null 2>&1 || true; rm -rf "$logs"' EXIT
step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nFAILED: %s\n' "$*"; echo "tests: ${passed:-0} passed, 1 failed"; exit 1; }

step "formatting (cargo fmt --check)"
cargo fmt --all -- --check || fail "cargo fmt: run 'cargo fmt --all'"

step "lints, server side (clippy, ssr, all targets)"
cargo clippy --workspace --all-targets --quiet -- -D warnings || fail "clippy (server)"

step "lints, browser side (clippy, hydrate, wasm32)"
cargo clippy -p app --lib --features hydrate --target wasm32-unknown-unknown --quiet -- -D warnings || fail "clippy (wasm)"

step "lints, widget (clippy, csr, wasm32)"
cargo clippy -p app --lib --features csr --target wasm32-unknown-unknown --quiet -- -D warnings || fail "clippy (widget)"

step "import cycles between the modules of server/src and app/src (shared/tools/module-cycles.py)"
# The layering stays readable: no module reaches a module that reaches back.
cycles_tool=../shared/tools/module-cycles.py
if [ -f "$cycles_tool" ]; then
  for src in server/src app/src; do
    for depth in 1 2; do
      out=$(python3 "$cycles_tool" "$src" --depth "$depth") || fail "module-cycles.py"
      printf '%s: %s\n' "$src" "$(printf '%s\n' "$out" | tail -1)"
      printf '%s\n' "$out" | tail -1 | grep -q '^0 cycles' || { printf '%s\n' "$out"; fail "import cycles in $src (depth $depth)"; }
    done
  done
else
  echo "(no $cycles_tool here: skipped)"
fi
# The same, with `super::` paths resolved (the shared tool reads `crate::` paths only).
for src in server/src app/src; do
  for depth in 1 2 3; do
    out=$(python3 .ci/module-graph.py "$src" "$depth") || { printf '%s\n' "$out"; fail "import cycles in $src (depth $depth, super:: included)"; }
    printf '%s: %s\n' "$src" "$(printf '%s\n' "$out" | tail -1)"
  done
done

step "PostgreSQL for the tests (a throwaway cluster, stopped at the end)"
CODESOURCE_TEST_DATABASE_URL=$(bash .ci/postgres.sh start) || fail "starting PostgreSQL (.ci/postgres.sh)"
export CODESOURCE_TEST_DATABASE_URL

step "unit and integration tests (cargo nextest)"
cargo nextest run --workspace --no-fail-fast 2>&1 | tee "$logs/nextest.log"
nextest_status=${PIPESTATUS[0]}
rust_passed=$(grep -Eo '[0-9]+ passed' "$logs/nextest.log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
rust_failed=$(grep -Eo '[0-9]+ failed' "$logs/nextest.log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
passed=$rust_passed

step "building the site (cargo leptos build --split), the widget (trunk build) and the fake code hosts"
cargo leptos build --split || fail "cargo leptos build --split"
# Trunk.toml says offline: every crate must already be here (cargo fetch is a no-op when it is).
cargo fetch --quiet || fail "cargo fetch"
trunk build || fail "trunk build (widget)"
cargo build -p fake-hosts --quiet || fail "building fake-hosts"

step "browser tests (Playwright, Chromium)"
(cd end2end && npx playwright test) 2>&1 | tee "$logs/e2e.log"
e2e_status=${PIPESTATUS[0]}
# The summary reporter's line: "e2e: N passed, N failed". Missing line = the run broke.
read -r e2e_passed e2e_failed < <(sed -n 's/^e2e: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$logs/e2e.log" | tail -1)
e2e_passed=${e2e_passed:-0}
e2e_failed=${e2e_failed:-1}

step "API contract (schemathesis against /api/openapi.json)"
st_port=3300
export ST_SERVICE_TOKEN="schemathesis-service-token-0123456789abcdef"
st_identity_key="schemathesis-identity-key-0123456789abcdef"
# A console identity token (HS256) for the server functions.
ST_IDENTITY=$(python3 - "$st_identity_key" <<'PY'
import base64, hashlib, hmac, json, sys, time
b = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
h = b(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
p = b(json.dumps({"sub": "st-user", "tenant": "st-tenant", "name": "Schemathesis", "exp": int(time.time()) + 3600}).encode())
s = b(hmac.new(sys.argv[1].encode(), f"{h}.{p}".encode(), hashlib.sha256).digest())
print(f"{h}.{p}.{s}")
PY
)
export ST_IDENTITY
CODESOURCE_DATA_DIR="$logs/st-data" LEPTOS_SITE_ADDR="127.0.0.1:$st_port" LEPTOS_SITE_ROOT=target/site \
  CODESOURCE_SERVICE_TOKEN="$ST_SERVICE_TOKEN" CODESOURCE_IDENTITY_KEY="$st_identity_key" \
  CODESOURCE_ENCRYPTION_KEY="$(head -c 32 /dev/urandom | base64)" RUST_LOG=warn \
  "${CARGO_TARGET_DIR:-target}/debug/codesource" > "$logs/st-server.log" 2>&1 &
st_pid=$!
python3 - "$st_port" <<'PY'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1)
        break
    except Exception:
        time.sleep(0.1)
PY
# The GitLab check is left out: it would dial whatever address schemathesis generates. So is the
# build-event feed: every example with `wait` would hold its request open up to 30 s (the feed
# has integration tests of its own, server/tests/integration/autobuild).
target/st-venv/bin/schemathesis --config-file .ci/schemathesis.toml run \
  "http://127.0.0.1:$st_port/api/openapi.json" --checks all --max-examples 60 \
  --exclude-operation-id checkToken --exclude-operation-id listBuildEvents
st_status=$?
kill "$st_pid" 2>/dev/null
st_failed=$([ "$st_status" -eq 0 ] && echo 0 || echo 1)

total_failed=$((rust_failed + e2e_failed + st_failed))
if [ "$nextest_status" -ne 0 ] && [ "$total_failed" -eq 0 ]; then total_failed=1; fi
if [ "$e2e_status" -ne 0 ] && [ "$total_failed" -eq 0 ]; then total_failed=1; fi
echo
echo "rust: $rust_passed passed, $rust_failed failed"
echo "e2e: $e2e_passed passed, $e2e_failed failed"
echo "api-contract: $((1 - st_failed)) passed, $st_failed failed"
echo "tests: $((rust_passed + e2e_passed + 1 - st_failed)) passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
