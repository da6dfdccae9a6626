#!/usr/bin/env bash
# The README's run command: installs whatever is missing (.ci/install-tools.sh says what and
# how long), builds the page and the widget, and serves in local mode at the printed URL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ./.ci/install-tools.sh
export PATH="$PWD/end2end/node_modules/.bin:$PATH"
echo "[serve] building the widget (trunk build), then the page and the server (cargo leptos serve --split)…"
trunk build
# The allocator's arenas committed on demand: ~25 MB less RSS (README, Performance).
export MIMALLOC_ARENA_EAGER_COMMIT=${MIMALLOC_ARENA_EAGER_COMMIT:-0}
exec cargo leptos serve --split
