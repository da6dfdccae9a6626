#!/usr/bin/env bash
# Trunk post-build hook: optimise the widget's wasm with binaryen's wasm-opt from npm
# (end2end/node_modules), the same tool cargo-leptos uses for the hydrate bundle.
set -euo pipefail
wasm="${TRUNK_STAGING_DIR:?}/app_bg.wasm"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
opt="$root/end2end/node_modules/.bin/wasm-opt"
if [[ "${TRUNK_PROFILE:-release}" != "release" ]]; then
  exit 0
fi
if [[ ! -x "$opt" ]]; then
  echo "widget/optimize.sh: $opt not found (run: npm ci --prefix end2end)" >&2
  exit 1
fi
"$opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue -o "$wasm.opt" "$wasm"
mv "$wasm.opt" "$wasm"
