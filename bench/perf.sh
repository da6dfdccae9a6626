#!/usr/bin/env bash
# Benchmark, run by hand (never part of CI's pass/fail): throughput and latency of one release
# server on sled, with 10 and with 1,000,000 stored bindings, plus the bundle sizes.
#   bash bench/perf.sh              # DURATION=10s CONNECTIONS=64 BINDINGS=1000000 by default
#   SKIP_BUILD=1 bash bench/perf.sh # reuse the last release build
# Builds the release site, widget and server (cargo leptos build --release --split, trunk build
# --release), writes the build-time brotli/gzip variants (codesource precompress), starts the
# server with a temporary data directory, binds GitLab for tenant "bench" through the server
# functions, seeds the other bindings straight into sled (codesource bench-seed, across many
# tenants), and loads each endpoint with wrk (one thread; the server has the rest of the cores):
# /healthz, the page (/), a hashed asset (the bundle's JS, brotli), the table's server function
# (code-sources/page) and the credential API. Prints Markdown for the README's Performance
# section: req/s, p50/p99, the ratio to /healthz, the server's peak RSS, the time until Bind is
# clickable in Chromium cold and warm (bench/tti.mjs), the bundle sizes.
# Needs: the tools of .ci/install-tools.sh, and wrk (Debian; installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
BINDINGS=${BINDINGS:-1000000}
IDENTITY_KEY=bench-identity-key-bench-identity-key-0000
SERVICE_TOKEN=bench-service-token-bench-service-token-00
ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
FAKE=127.0.0.1:3911
PORT=${PORT:-3931}
BASE=http://127.0.0.1:$PORT
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
fi
bin=$target/server-release/codesource
"$bin" precompress "$site" "$widget" >&2

work=$(mktemp -d)
pids=()
server_pid=
cleanup() {
  for p in "${pids[@]}" $server_pid; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

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

server_env=(env -i PATH="$PATH" LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_OUTPUT_NAME=codesource
  LEPTOS_SITE_ROOT="$site" CODESOURCE_WIDGET_DIR="$widget" RUST_LOG=warn
  CODESOURCE_DATA_DIR="$work/data" CODESOURCE_IDENTITY_KEY=$IDENTITY_KEY
  CODESOURCE_ENCRYPTION_KEY="$ENCRYPTION_KEY" CODESOURCE_SERVICE_TOKEN=$SERVICE_TOKEN
  CODESOURCE_ALLOW_LOOPBACK=true CODESOURCE_HEALTH_INTERVAL_SECS=0
  CODESOURCE_PUBLIC_URL="$BASE" $(env | grep '^MIMALLOC_' || true))
start_server() {
  "${server_env[@]}" "$bin" >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 300); do curl -fs "$BASE/healthz" >/dev/null && return; sleep 0.1; done
  cat "$work/server.log" >&2
  exit 1
}
stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}
seed_store() { "${server_env[@]}" "$bin" bench-seed "$1" >&2; }

# Binds GitLab for tenant "bench" through the server functions (check, then confirm).
bind_bench() {
  local call=(curl -fs -H "content-type: application/json" -H "origin: $BASE"
    -H "sec-fetch-site: same-origin" -H "cookie: console_identity=$jwt")
  local id
  id=$("${call[@]}" "$BASE/api/code-sources/token/check" \
    -d "{\"provider\":\"gitlab\",\"address\":\"http://$FAKE\",\"token\":\"glpat-fake-alice\",\"ca_pem\":null}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  "${call[@]}" "$BASE/api/code-sources/confirm" -d "{\"pending_id\":\"$id\"}" >/dev/null
}

# The server's peak RSS (KiB) while a command runs.
peak_rss=0
with_rss() {
  local sampler
  (while kill -0 "$server_pid" 2>/dev/null; do
    awk '/VmRSS/ {print $2}' "/proc/$server_pid/status" 2>/dev/null
    sleep 0.2
  done) >"$work/rss" &
  sampler=$!
  "$@"
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  local peak
  peak=$(sort -n "$work/rss" | tail -1)
  [ "${peak:-0}" -gt "$peak_rss" ] && peak_rss=$peak
  return 0
}

# load NAME PATH [wrk args...]: prints "req/s p50 p99" (ms); complains about non-2xx answers.
load() {
  local name=$1 path=$2
  shift 2
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$BASE$path" >"$work/wrk-$name.txt"
  python3 - "$work/wrk-$name.txt" <<'PY'
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
js=

# measure LABEL: one row per endpoint into $work/rows-LABEL.
measure() {
  local label=$1 out=$work/rows-$1
  [ -n "$js" ] || js=$(curl -fs -H "cookie: console_identity=$jwt" "$BASE/" |
    sed -n 's/.*rel="modulepreload" href="\([^"]*\)".*/\1/p')
  : >"$out"
  echo "healthz $(load healthz /healthz)" >>"$out"
  echo "page $(load page / "${browser[@]}" -H "Cookie: console_identity=$jwt")" >>"$out"
  echo "asset $(load asset "$js" "${browser[@]}")" >>"$out"
  echo "list $(load list /api/code-sources/page -s "$work/post.lua" "${browser[@]}" \
    -H "Content-Type: application/json" -H "Origin: $BASE" -H "Sec-Fetch-Site: same-origin" \
    -H "Cookie: console_identity=$jwt")" >>"$out"
  echo "credential $(load credential /api/v1/tenants/bench/code-sources/gitlab/credential \
    -H "Authorization: Bearer $SERVICE_TOKEN")" >>"$out"
}

echo "10 bindings…" >&2
seed_store 9
start_server
bind_bench
peak_rss=0
with_rss measure small
rss_small=$peak_rss
echo "time to a clickable Bind (Chromium)…" >&2
node bench/tti.mjs "$BASE/" "$tti_jwt" "${TTI_RUNS:-7}" >"$work/tti"
stop_server

echo "$BINDINGS bindings: seeding…" >&2
seed_store "$BINDINGS"
start_server
peak_rss=0
with_rss measure large
rss_large=$peak_rss
stop_server

python3 - "$work/rows-small" "$work/rows-large" "$BINDINGS" "$rss_small" "$rss_large" <<'PY'
import sys
def rows(f):
    return {l.split()[0]: [float(x) for x in l.split()[1:]] for l in open(f) if l.strip()}
small, large = rows(sys.argv[1]), rows(sys.argv[2])
n = int(sys.argv[3])
names = {"healthz": "`/healthz`", "page": "page `/` (br)", "asset": "hashed asset (JS, br)",
         "list": "server fn `code-sources/page`", "credential": "credential API"}
print(f"| Endpoint | req/s (10) | p50 / p99 ms (10) | vs `/healthz` | req/s ({n:,}) | p50 / p99 ms ({n:,}) | change |")
print("|---|---|---|---|---|---|---|")
for k, label in names.items():
    s, l = small[k], large[k]
    ratio = s[0] / small["healthz"][0] * 100
    change = (l[0] - s[0]) / s[0] * 100
    print(f"| {label} | {s[0]:,.0f} | {s[1]:.2f} / {s[2]:.2f} | {ratio:.0f} % | {l[0]:,.0f} | {l[1]:.2f} / {l[2]:.2f} | {change:+.0f} % |")
print()
print(f"Server peak RSS under load: {int(sys.argv[4]) / 1024:.0f} MiB with 10 bindings, {int(sys.argv[5]) / 1024:.0f} MiB with {n:,}.")
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
echo "($CONNECTIONS connections, $DURATION each, $(nproc) cores; wrk (1 thread) and the server share them)"
