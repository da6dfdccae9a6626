#!/usr/bin/env bash
# Benchmark, run by hand (never part of CI's pass/fail): the auto-build ingress of one release
# server. Signed GitHub push deliveries of a realistic size (~9.6 KB, 4 commits) go to the
# webhook URLs of 12 × 45 manual-setup registrations (the ingress allows one URL 10 deliveries
# a second), over CONCURRENCY connections for DURATION seconds per level, while a build
# service waits on the feed (GET /api/v1/build-events?wait=30). Measures deliveries accepted
# per second, the latency to the 2xx, and the time from sending a delivery to its event in
# the waiting reader's hands. Prints a Markdown row per level.
#   bash bench/hooks.sh                    # STORE=sled CONCURRENCY=16,64 DURATION=10
#   STORE=postgres bash bench/hooks.sh     # a throwaway cluster (.ci/postgres.sh) with fsync
#                                          # and synchronous commit on, like a real one
#   SKIP_BUILD=1 bash bench/hooks.sh       # reuse the last build
#   WAITS=1 STORE=postgres bash bench/…    # also samples what PostgreSQL's client backends
#                                          # wait on (pg_stat_activity, every 0.1 s): where
#                                          # the time of a delivery goes
# Builds the server (profile server-release, as cargo-leptos does for a release) and the load
# generator (server/examples/hook_load.rs, same profile), and the fake code hosts (debug). The
# generator shares the machine's cores with the server (and PostgreSQL): say so with numbers.
set -euo pipefail
cd "$(dirname "$0")/.."

STORE=${STORE:-sled}
export CONCURRENCY=${CONCURRENCY:-16,64} DURATION=${DURATION:-10} TENANTS=${TENANTS:-12}
export IDENTITY_KEY=bench-identity-key-bench-identity-key-0000
export SERVICE_TOKEN=bench-service-token-bench-service-token-00
ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
FAKE=127.0.0.1:3951
PORT=${PORT:-3941}
export BASE=http://127.0.0.1:$PORT
target=${CARGO_TARGET_DIR:-target}

if [ -z "${SKIP_BUILD:-}" ]; then
  echo "building the release server and load generator, and the fake code hosts…" >&2
  cargo build --quiet --profile server-release -p codesource-server --bin codesource --example hook_load
  cargo build --quiet -p fake-hosts
fi

work=$(mktemp -d)
pids=()
db=
pg() { PG_STATE_DIR=target/pg-bench-hooks PG_DURABLE=1 bash .ci/postgres.sh "$1"; }
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$STORE" = postgres ]; then pg stop 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT
case $STORE in
  sled) ;;
  postgres) db=$(pg start) ;;
  *) echo "STORE is sled or postgres" >&2; exit 2 ;;
esac

FAKE_HOSTS_HTTP=$FAKE FAKE_HOSTS_HTTPS=127.0.0.1:3952 "$target/debug/fake-hosts" >/dev/null 2>&1 &
pids+=($!)

# The server is the background job itself (env execs it), so its pid is $!. The public URL is
# its own address: OAuth comes back to it, and manual setup names it in the payload URL.
env -i PATH="$PATH" LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_OUTPUT_NAME=codesource \
  RUST_LOG=warn CODESOURCE_DATA_DIR="$work/data" CODESOURCE_IDENTITY_KEY=$IDENTITY_KEY \
  CODESOURCE_ENCRYPTION_KEY="$ENCRYPTION_KEY" CODESOURCE_SERVICE_TOKEN=$SERVICE_TOKEN \
  CODESOURCE_ALLOW_LOOPBACK=true CODESOURCE_HEALTH_INTERVAL_SECS=0 CODESOURCE_PUBLIC_URL="$BASE" \
  CODESOURCE_GITHUB_URL="http://$FAKE/github" CODESOURCE_GITHUB_API_URL="http://$FAKE/github-api" \
  CODESOURCE_GITHUB_CLIENT_ID=fake-github-client CODESOURCE_GITHUB_CLIENT_SECRET=fake-github-secret \
  ${db:+CODESOURCE_DATABASE_URL=$db} \
  "$target/server-release/codesource" >>"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do curl -fs "$BASE/healthz" >/dev/null && break; sleep 0.1; done
curl -fs "$BASE/healthz" >/dev/null || { cat "$work/server.log" >&2; exit 1; }

# sample_waits: one line per active client backend and sample, "type:event" (or "cpu" when
# it waits on nothing), until stopped.
sample_waits() {
  while true; do
    psql -qAt "$db" -c "SELECT coalesce(wait_event_type || ':' || wait_event, 'cpu') \
      FROM pg_stat_activity WHERE backend_type = 'client backend' AND state = 'active' \
      AND pid <> pg_backend_pid()" >>"$work/waits" 2>/dev/null || true
    sleep 0.1
  done
}
if [ -n "${WAITS:-}" ] && [ "$STORE" = postgres ]; then
  sample_waits &
  pids+=($!)
fi

echo "load before the run: $(uptime)" >&2
STORE=$STORE "$target/server-release/examples/hook_load" || { tail -50 "$work/server.log" >&2; exit 1; }
echo "load after the run: $(uptime)" >&2
if [ -s "$work/waits" ]; then
  echo
  echo "What active PostgreSQL backends waited on (samples over the whole run):"
  sort "$work/waits" | uniq -c | sort -rn | head -12
fi
echo
echo "(store: $STORE; ${TENANTS} × 45 registrations; ${DURATION} s per level; $(nproc) cores shared by the server, the load generator$([ "$STORE" = postgres ] && echo " and PostgreSQL"))"
