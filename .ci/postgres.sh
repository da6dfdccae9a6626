#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests (Debian's packages; bash .ci/install-tools.sh
# installs them):
#   .ci/postgres.sh start   starts one (or finds the running one), prints its URL
#   .ci/postgres.sh url     prints the URL of the running one
#   .ci/postgres.sh stop    stops it and deletes its files
#   .ci/postgres.sh pause   stops the server but keeps its files (a database outage)
#   .ci/postgres.sh resume  starts a paused one again, same data and port; prints its URL
#   .ci/postgres.sh freeze  stops its processes (SIGSTOP): connections stay open and silent,
#                           as when a network drops packets
#   .ci/postgres.sh thaw    lets a frozen one go on (SIGCONT)
# The cluster lives in a temporary directory (remembered in target/pg/state), listens on a free
# port on 127.0.0.1 only, trusts every local connection and skips fsync: test data only
# (PG_DURABLE=1 keeps PostgreSQL's fsync and synchronous commit: the benchmark's cluster).
# The URL is also written to target/pg/url, for CODESOURCE_TEST_DATABASE_URL.
# PG_STATE_DIR (default target/pg) names another state directory, for a second, private
# cluster (a test that stops its database mid-run uses one).
set -euo pipefail
cd "$(dirname "$0")/.."

state_dir=${PG_STATE_DIR:-target/pg}
state=$state_dir/state

log() { printf '[postgres] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$bin" ] && [ -x "$bin/initdb" ] ||
    die "no PostgreSQL server found under /usr/lib/postgresql: run bash .ci/install-tools.sh"
  echo "$bin"
}

# initdb and the server refuse to run as root: as root, run them as the postgres user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Sets dir and port from the state file; fails if there is none.
load_state() {
  [ -f "$state" ] || return 1
  dir=$(sed -n 's/^dir=//p' "$state")
  port=$(sed -n 's/^port=//p' "$state")
  [ -n "$dir" ] && [ -n "$port" ]
}

running() {
  load_state && [ -d "$dir/data" ] && as_pg "$(pg_bin)/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

url() { echo "postgres://postgres@127.0.0.1:$port/postgres"; }

# The server's processes: the postmaster (first line of postmaster.pid) and its children.
server_pids() {
  local main s pid comm pstate ppid rest
  main=$(head -1 "$dir/data/postmaster.pid")
  echo "$main"
  for s in /proc/[0-9]*/stat; do
    read -r pid comm pstate ppid rest < "$s" 2>/dev/null || continue
    [ "$ppid" = "$main" ] && echo "$pid"
  done
  return 0
}

start() {
  if running; then
    url
    return
  fi
  stop_quietly
  local bin
  bin=$(pg_bin)
  mkdir -p "$state_dir"
  dir=$(mktemp -d "${TMPDIR:-/tmp}/codesource-pg.XXXXXX")
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  port=$(free_port)
  printf 'dir=%s\nport=%s\n' "$dir" "$port" >"$state"
  log "initdb in $dir ($bin)"
  # C collation: text sorts by bytes, like the sled backend's keys.
  as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  log "starting on 127.0.0.1:$port"
  launch "$bin"
  url | tee "$state_dir/url"
}

launch() {
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ -n "${PG_DURABLE:-}" ] && durability=""
  as_pg "$1/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $durability -c max_connections=300" \
    >/dev/null || { cat "$dir/server.log" >&2; die "the server did not start"; }
}

stop_quietly() {
  if load_state; then
    if [ -d "$dir/data" ]; then
      # A frozen server (a test that failed before thawing it) could not hear the stop.
      if [ -f "$dir/data/postmaster.pid" ]; then
        # shellcheck disable=SC2046 # one pid per word
        kill -s CONT $(server_pids) 2>/dev/null || true
      fi
      as_pg "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    case "$dir" in
      */codesource-pg.*) rm -rf "$dir" ;;
    esac
  fi
  rm -f "$state" "$state_dir/url"
}

case "${1:-}" in
  start) start ;;
  stop)
    stop_quietly
    log "stopped"
    ;;
  pause)
    load_state && [ -d "$dir/data" ] || die "no cluster: .ci/postgres.sh start"
    as_pg "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    log "paused (files kept in $dir)"
    ;;
  resume)
    load_state && [ -d "$dir/data" ] || die "no cluster: .ci/postgres.sh start"
    running || launch "$(pg_bin)"
    url
    ;;
  url)
    running || die "not running: .ci/postgres.sh start"
    url
    ;;
  freeze | thaw)
    running || die "not running: .ci/postgres.sh start"
    signal=STOP done=frozen
    [ "$1" = thaw ] && signal=CONT done=thawed
    # shellcheck disable=SC2046 # one pid per word
    kill -s "$signal" $(server_pids)
    log "$done"
    ;;
  *) die "usage: $0 start|stop|pause|resume|freeze|thaw|url" ;;
esac
