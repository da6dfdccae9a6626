#!/usr/bin/env bash
# Benchmark, run by hand (never part of CI's pass/fail): throughput and latency of the release
# server with 10 and with 1,000,000 stored bindings, plus the bundle sizes.
#   bash bench/perf.sh                # DURATION=10s CONNECTIONS=64 BINDINGS=1000000 ROUNDS=3
#   SKIP_BUILD=1 bash bench/perf.sh   # reuse the last release build
#   STORE=postgres bash bench/perf.sh # on PostgreSQL instead of sled: throwaway clusters
#                                     # (.ci/postgres.sh, with fsync and synchronous commit on)
# Builds the release site, widget and server (cargo leptos build --release --split, trunk build
# --release) and writes the build-time brotli/gzip variants (codesource precompress). Then two
# servers run side by side, each with its own temporary store: "small" (GitLab bound for tenant
# "bench" through the server functions, 9 more bindings) and "large" (the same, plus BINDINGS
# seeded straight into the store by the bench_seed example (server/examples), across many tenants). wrk (one
# thread; the server has the rest of the cores) loads /healthz, the page (/), a hashed asset
# (the bundle's JS, brotli), the table's server function (code-sources/page) and the credential
# API, alternating between the two servers endpoint by endpoint, for ROUNDS rounds: the
# machine's drift over a run (which once moved an asset that never touches the store by 18 %
# between two phases a minute apart) then falls on both columns alike. Prints Markdown for the
# README's Performance section: medians of the rounds (req/s, p50/p99, the ratio to /healthz,
# the change with the large store and its range), each server's peak RSS, the time until Bind
# is clickable in Chromium cold and warm (bench/tti.mjs), the bundle sizes.
# Needs: the tools of .ci/install-tools.sh, and wrk (Debian; installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
BINDINGS=${BINDINGS:-1000000}
ROUNDS=${ROUNDS:-3}
STORE=${STORE:-sled}
IDENTITY_KEY=bench-identity-key-bench-identity-key-0000
SERVICE_TOKEN=bench-service-token-bench-service-token-00
ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
FAKE=127.0.0.1:3911
PORT=${PORT:-3931}
declare -A port=([small]=$PORT [large]=$((PORT + 1))) pid=() db=()
# Binaries go to CARGO_TARGET_DIR; cargo-leptos and Trunk write the site and the widget to
# ./target/site and ./target/widget whatever it is (paths relative to the workspace).
target=${CARGO_TARGET_DIR:-target}
site=target/site
widget=target/widget
export PATH="$PWD/end2end/node_modules/.bin:$PATH"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
if [ -z "${SKIP_BUILD:-}" ]; then
  echo "building the release site, widget and server, and the fake code hosts…" >&2
  cargo leptos build --release --split >&2
  trunk build --release >&2
  cargo build --quiet -p fake-hosts
  # The seeding tool is an example beside the server, not a command of the shipping binary.
  cargo build --quiet --profile server-release -p codesource-server --example bench_seed
fi
# With SKIP_BUILD the site and widget are whatever target/ holds, and `.ci/test.sh` leaves debug
# builds there: several MB of wasm with names and debug info, which the server holds in memory
# (RSS ~8 MiB higher) and the bundle table would report. A release wasm has no such sections.
python3 bench/wasm-sizes.py --refuse-debug "$site"/pkg/*.wasm "$widget"/*.wasm || exit 1
bin=$target/server-release/codesource
"$bin" precompress "$site" "$widget" >&2

work=$(mktemp -d)
pids=()
# The benchmark's own PostgreSQL clusters, one per server, apart from the tests' one, and
# durable like a real one.
pg() { PG_STATE_DIR=target/pg-bench-$1 PG_DURABLE=1 bash .ci/postgres.sh "$2"; }
cleanup() {
  for p in "${pids[@]}" "${pid[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$STORE" = postgres ]; then pg small stop 2>/dev/null; pg large stop 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT
case $STORE in
  sled) ;;
  postgres) db=([small]="$(pg small start)" [large]="$(pg large start)") ;;
  *) echo "STORE is sled or postgres" >&2; exit 2 ;;
esac

# Bundle sizes: raw, and brotli 11 (the build-time variants the server sends; a file too small
# to compress is sent as it is).
size() { stat -c %s "$1"; }
# The brotli variant of a built file: `name.<hash>.ext.br`, or for the split loader, whose name
# has a placeholder the hash fills, `__wasm_split.<hash>.js.br`.
variant() {
  local stem=${1%.*} ext=${1##*.} v
  if [[ $stem == *______________________* ]]; then
    v=$(ls ${stem//______________________/*}."$ext".br 2>/dev/null | head -1)
  else
    v=$(ls "$stem".*."$ext".br 2>/dev/null | head -1)
  fi
  echo "${v:-$1}"
}
# bundle_row LABEL FILE...: wasm bytes, JS bytes, raw total and brotli total of FILEs.
bundle_row() {
  local label=$1 wasm=0 js=0 br=0 f
  shift
  for f in "$@"; do
    case $f in *.wasm) wasm=$((wasm + $(size "$f"))) ;; *) js=$((js + $(size "$f"))) ;; esac
    br=$((br + $(size "$(variant "$f")")))
  done
  printf '| %s | %s | %s | %s | %s |\n' "$label" "$wasm" "$js" "$((wasm + js))" "$br"
}

FAKE_HOSTS_HTTP=$FAKE FAKE_HOSTS_HTTPS=127.0.0.1:3912 "$target/debug/fake-hosts" >/dev/null 2>&1 &
pids+=($!)

# identity TENANT: a console identity token (HS256) for a user of TENANT.
identity() {
  python3 - "$IDENTITY_KEY" "$1" <<'PY'
import base64, hashlib, hmac, json, sys, time
b = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
h = b(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
p = b(json.dumps({"sub": "u1", "tenant": sys.argv[2], "name": "Bench", "exp": int(time.time()) + 86400}).encode())
s = b(hmac.new(sys.argv[1].encode(), f"{h}.{p}".encode(), hashlib.sha256).digest())
print(f"{h}.{p}.{s}")
PY
}
jwt=$(identity bench)
# The browser measurement needs a tenant with GitLab unbound: "Bind GitLab" is its signal.
tti_jwt=$(identity tti)

# server_env NAME: sets $server_env to the environment of server NAME (its port, store, URL).
server_env() {
  server_env=(env -i PATH="$PATH" LEPTOS_SITE_ADDR="127.0.0.1:${port[$1]}"
    LEPTOS_OUTPUT_NAME=codesource LEPTOS_SITE_ROOT="$site" CODESOURCE_WIDGET_DIR="$widget"
    RUST_LOG=warn CODESOURCE_DATA_DIR="$work/$1" CODESOURCE_IDENTITY_KEY=$IDENTITY_KEY
    CODESOURCE_ENCRYPTION_KEY="$ENCRYPTION_KEY" CODESOURCE_SERVICE_TOKEN=$SERVICE_TOKEN
    CODESOURCE_ALLOW_LOOPBACK=true CODESOURCE_HEALTH_INTERVAL_SECS=0
    CODESOURCE_PUBLIC_URL="$(base "$1")" ${db[$1]:+CODESOURCE_DATABASE_URL=${db[$1]}}
    $(env | grep '^MIMALLOC_' || true))
}
base() { echo "http://127.0.0.1:${port[$1]}"; }
# The server is the background job itself (env execs it), so its pid is $!.
start_server() {
  server_env "$1"
  "${server_env[@]}" "$bin" >>"$work/server-$1.log" 2>&1 &
  pid[$1]=$!
  for _ in $(seq 300); do curl -fs "$(base "$1")/healthz" >/dev/null && return; sleep 0.1; done
  cat "$work/server-$1.log" >&2
  exit 1
}
seed_store() {
  server_env "$1"
  "${server_env[@]}" "$target/server-release/examples/bench_seed" "$2" >&2
}

# bind_bench NAME: binds GitLab for tenant "bench" through server NAME's server functions.
bind_bench() {
  local b
  b=$(base "$1")
  local call=(curl -fs -H "content-type: application/json" -H "origin: $b"
    -H "sec-fetch-site: same-origin" -H "cookie: console_identity=$jwt")
  local id
  id=$("${call[@]}" "$b/api/code-sources/token/check" \
    -d "{\"provider\":\"gitlab\",\"address\":\"http://$FAKE\",\"token\":\"glpat-fake-alice\",\"ca_pem\":null}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  "${call[@]}" "$b/api/code-sources/confirm" -d "{\"pending_id\":\"$id\"}" >/dev/null
}

# Samples each server's RSS (KiB) every 0.2 s into $work/rss-NAME until stopped.
sample_rss() {
  local name
  while true; do
    for name in small large; do
      awk '/VmRSS/ {print $2}' "/proc/${pid[$name]}/status" >>"$work/rss-$name" 2>/dev/null || true
    done
    sleep 0.2
  done
}

# load FILE URL [wrk args...]: prints "req/s p50 p99" (ms); complains about non-2xx answers.
load() {
  local file=$1 url=$2
  shift 2
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" >"$file"
  python3 - "$file" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p50 = ms(*re.search(r"50%\s+([\d.]+)(us|ms|s)", t).groups())
p99 = ms(*re.search(r"99%\s+([\d.]+)(us|ms|s)", t).groups())
if "Non-2xx" in t:
    print("non-2xx answers in " + sys.argv[1], file=sys.stderr)
print(f"{rps:.0f} {p50:.2f} {p99:.2f}")
PY
}

cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "{}"
LUA
browser=(-H "Accept-Encoding: gzip, deflate, br, zstd")

# endpoint NAME SERVER ROUND: loads one endpoint of one server, appends a row to
# $work/rows-SERVER-ROUND.
endpoint() {
  local name=$1 server=$2 round=$3 b
  b=$(base "$server")
  local args=()
  case $name in
    healthz) args=("$b/healthz") ;;
    page) args=("$b/" "${browser[@]}" -H "Cookie: console_identity=$jwt") ;;
    asset) args=("$b$js" "${browser[@]}") ;;
    list) args=("$b/api/code-sources/page" -s "$work/post.lua" "${browser[@]}"
      -H "Content-Type: application/json" -H "Origin: $b" -H "Sec-Fetch-Site: same-origin"
      -H "Cookie: console_identity=$jwt") ;;
    credential) args=("$b/api/v1/tenants/bench/code-sources/gitlab/credential"
      -H "Authorization: Bearer $SERVICE_TOKEN") ;;
  esac
  # A pause first: the previous load's deferred work (sled writing out its log, in either
  # server) would otherwise land in this one's tail latency.
  sleep 2
  echo "$name $(load "$work/wrk-$name-$server-$round.txt" "${args[@]}")" >>"$work/rows-$server-$round"
}

echo "seeding: 9 bindings for the small server, $BINDINGS for the large one…" >&2
seed_store small 9
seed_store large "$BINDINGS"
start_server small
start_server large
bind_bench small
bind_bench large
js=$(curl -fs -H "cookie: console_identity=$jwt" "$(base small)/" |
  sed -n 's/.*rel="modulepreload" href="\([^"]*\)".*/\1/p')
sample_rss &
sampler=$!
pids+=("$sampler")
for round in $(seq "$ROUNDS"); do
  echo "round $round of $ROUNDS…" >&2
  # Which server goes first alternates too.
  order=(small large)
  [ $((round % 2)) = 0 ] && order=(large small)
  for name in healthz page asset list credential; do
    for server in "${order[@]}"; do endpoint "$name" "$server" "$round"; done
  done
done
kill "$sampler"
wait "$sampler" 2>/dev/null || true
echo "time to a clickable Bind (Chromium)…" >&2
node bench/tti.mjs "$(base small)/" "$tti_jwt" "${TTI_RUNS:-7}" >"$work/tti"

python3 - "$work" "$ROUNDS" "$BINDINGS" <<'PY'
import statistics, sys
work, rounds, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def rows(server, r):
    return {l.split()[0]: [float(x) for x in l.split()[1:]] for l in open(f"{work}/rows-{server}-{r}") if l.strip()}
small = [rows("small", r) for r in range(1, rounds + 1)]
large = [rows("large", r) for r in range(1, rounds + 1)]
med = statistics.median
def peak(server):
    try:
        return max(int(l) for l in open(f"{work}/rss-{server}") if l.strip()) / 1024
    except (OSError, ValueError):
        return float("nan")
names = {"healthz": "`/healthz`", "page": "page `/` (br)", "asset": "hashed asset (JS, br)",
         "list": "server fn `code-sources/page`", "credential": "credential API"}
print(f"| Endpoint | req/s (10) | p50 / p99 ms (10) | vs `/healthz` | req/s ({n:,}) | p50 / p99 ms ({n:,}) | change (range) |")
print("|---|---|---|---|---|---|---|")
for k, label in names.items():
    s = [med(r[k][i] for r in small) for i in range(3)]
    l = [med(r[k][i] for r in large) for i in range(3)]
    ratio = med(r[k][0] / r["healthz"][0] for r in small) * 100
    changes = [(b[k][0] - a[k][0]) / a[k][0] * 100 for a, b in zip(small, large)]
    print(f"| {label} | {s[0]:,.0f} | {s[1]:.2f} / {s[2]:.2f} | {ratio:.0f} % | {l[0]:,.0f} | {l[1]:.2f} / {l[2]:.2f} "
          f"| {med(changes):+.0f} % ({min(changes):+.0f} … {max(changes):+.0f}) |")
print()
print(f"Medians of {rounds} rounds; the change is the median of the rounds' changes, each round "
      "measuring the two servers back to back.")
print(f"Server peak RSS under load: {peak('small'):.0f} MiB with 10 bindings, {peak('large'):.0f} MiB with {n:,}.")
PY
echo
cat "$work/tti"
echo
echo "| Bundle | wasm bytes | JS bytes | raw total | brotli total |"
echo "|---|---|---|---|---|"
# What a page load fetches: the JS, the main wasm and the split loader the JS imports. The
# dialogs and the activity log are separate wasm files, fetched when first opened.
bundle_row "hydrate (page load)" "$site/pkg/codesource.js" "$site/pkg/codesource.wasm" \
  "$site/pkg/__wasm_split.______________________.js"
chunks=()
for f in "$site"/pkg/*.wasm; do
  case $f in */codesource.wasm) ;; *) chunks+=("$f") ;; esac
done
bundle_row "hydrate: lazy parts, all ${#chunks[@]} files" "${chunks[@]}"
for f in "$site"/pkg/split_*.wasm; do
  name=${f##*/split_codesource_}
  bundle_row "— ${name%.wasm}" "$f"
done
bundle_row "widget (csr)" "$widget/app.js" "$widget/app_bg.wasm"
echo
echo "(store: $STORE; $CONNECTIONS connections, $DURATION each, $(nproc) cores; wrk (1 thread) and the server share them$([ "$STORE" = postgres ] && echo ", and PostgreSQL"))"
