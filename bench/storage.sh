#!/usr/bin/env bash
# Benchmark, run by hand (never part of CI's pass/fail): the page and the build service's
# credential API on sled versus PostgreSQL, one replica and two, with wrk over loopback.
# Prints a Markdown table (req/s and p99) for the README's performance section.
#   bash bench/storage.sh            # DURATION=10s CONNECTIONS=32 by default
#   SKIP_BUILD=1 bash bench/storage.sh # reuse the last release build
# Needs: the tools of .ci/install-tools.sh (PostgreSQL among them), and wrk (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
IDENTITY_KEY=bench-identity-key-bench-identity-key-0000
SERVICE_TOKEN=bench-service-token-bench-service-token-00
ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
FAKE=127.0.0.1:3911

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
# Built the way bench/perf.sh builds it: cargo-leptos passes the server build settings that
# its page markup depends on, and a server built by plain cargo into the same path would no
# longer hydrate with the site perf.sh then measures.
if [ -z "${SKIP_BUILD:-}" ]; then
  echo "building the release site and server, and the fake code hosts…" >&2
  PATH="$PWD/end2end/node_modules/.bin:$PATH" cargo leptos build --release --split >&2
  cargo build --quiet -p fake-hosts
fi
target=${CARGO_TARGET_DIR:-target}
bin=$target/server-release/codesource

work=$(mktemp -d)
pids=()
# A cluster of its own, apart from the tests' one, durable like a real one.
pg() { PG_STATE_DIR=target/pg-bench-replicas PG_DURABLE=1 bash .ci/postgres.sh "$@"; }
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pg stop 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

FAKE_HOSTS_HTTP=$FAKE FAKE_HOSTS_HTTPS=127.0.0.1:3912 "$target/debug/fake-hosts" >/dev/null 2>&1 &
pids+=($!)
pg_admin=$(pg start)
db="bench_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
psql -q "$pg_admin" -c "CREATE DATABASE $db"
pg_url=${pg_admin%/postgres}/$db

# A console identity token (HS256) for tenant "bench".
jwt=$(python3 - "$IDENTITY_KEY" <<'PY'
import base64, hashlib, hmac, json, sys, time
b = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
h = b(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
p = b(json.dumps({"sub": "u1", "tenant": "bench", "name": "Bench", "exp": int(time.time()) + 86400}).encode())
s = b(hmac.new(sys.argv[1].encode(), f"{h}.{p}".encode(), hashlib.sha256).digest())
print(f"{h}.{p}.{s}")
PY
)

# start_replica NAME PORT [DATABASE_URL]: starts a server, waits until it answers.
start_replica() {
  local name=$1 port=$2 url=${3:-}
  env -i PATH="$PATH" LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_OUTPUT_NAME=codesource \
    LEPTOS_SITE_ROOT=target/site RUST_LOG=warn \
    CODESOURCE_DATA_DIR="$work/$name" CODESOURCE_IDENTITY_KEY=$IDENTITY_KEY \
    CODESOURCE_ENCRYPTION_KEY="$ENCRYPTION_KEY" CODESOURCE_SERVICE_TOKEN=$SERVICE_TOKEN \
    CODESOURCE_ALLOW_LOOPBACK=true CODESOURCE_HEALTH_INTERVAL_SECS=0 \
    CODESOURCE_PUBLIC_URL="http://127.0.0.1:$port" ${url:+CODESOURCE_DATABASE_URL=$url} \
    "$bin" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  cat "$work/$name.log" >&2
  exit 1
}

stop_replicas() {
  for p in "${pids[@]:1}"; do kill "$p" 2>/dev/null || true; done
  wait "${pids[@]:1}" 2>/dev/null || true
  pids=("${pids[0]}")
}

# Binds GitLab for tenant "bench" through the server functions (check, then confirm).
seed() {
  local base=$1
  local call=(curl -fs -H "content-type: application/json" -H "origin: $base"
    -H "sec-fetch-site: same-origin" -H "cookie: console_identity=$jwt")
  local id
  id=$("${call[@]}" "$base/api/code-sources/token/check" \
    -d "{\"provider\":\"gitlab\",\"address\":\"http://$FAKE\",\"token\":\"glpat-fake-alice\",\"ca_pem\":null}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  "${call[@]}" "$base/api/code-sources/confirm" -d "{\"pending_id\":\"$id\"}" >/dev/null
}

# load URL HEADER PORT...: wrk against each port at once (connections split); prints "req/s p99".
load() {
  local path=$1 header=$2
  shift 2
  local n=$# outs=() loaders=()
  for port in "$@"; do
    wrk -t1 -c$((CONNECTIONS / n)) -d"$DURATION" --latency -H "$header" \
      "http://127.0.0.1:$port$path" >"$work/wrk-$port.txt" &
    loaders+=($!)
    outs+=("$work/wrk-$port.txt")
  done
  wait "${loaders[@]}"
  python3 - "${outs[@]}" <<'PY'
import re, sys
rps, p99 = 0.0, 0.0
def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
for f in sys.argv[1:]:
    t = open(f).read()
    rps += float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
    p99 = max(p99, ms(*m.groups()))
    if "Non-2xx" in t:
        print("non-2xx answers in " + f, file=sys.stderr)
print(f"{rps:,.0f} {p99:.1f}")
PY
}

row() {
  local label=$1
  shift
  read -r page_rps page_p99 < <(load / "Cookie: console_identity=$jwt" "$@")
  read -r cred_rps cred_p99 < <(load /api/v1/tenants/bench/code-sources/gitlab/credential \
    "Authorization: Bearer $SERVICE_TOKEN" "$@")
  echo "| $label | $page_rps | $page_p99 | $cred_rps | $cred_p99 |"
}

echo "| Store, replicas | page req/s | page p99 ms | credential req/s | credential p99 ms |"
echo "|---|---|---|---|---|"
start_replica sled 3921
seed http://127.0.0.1:3921
row "sled, 1" 3921
stop_replicas

start_replica pg-a 3922 "$pg_url"
seed http://127.0.0.1:3922
row "PostgreSQL, 1" 3922
start_replica pg-b 3923 "$pg_url"
row "PostgreSQL, 2" 3922 3923
stop_replicas
echo
echo "($CONNECTIONS connections, $DURATION each, $(nproc) cores; wrk, servers, PostgreSQL and the fake hosts share them)"
