#!/usr/bin/env bash
# Installs what Sightline's build and tests need, skipping whatever is already present.
# Safe to run on every build: each step checks first (see TOOLCHAIN.md for why these versions).
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }

# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 13 minutes on 2 cores, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

WB=$(wasm_bindgen_version)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB" ]; then
  log "installing wasm-bindgen-cli $WB"
  cargo install wasm-bindgen-cli --version "$WB" --force
fi

# Chromium for the end-to-end tests (Debian's build; Playwright cannot download its own here).
if ! command -v chromium >/dev/null 2>&1; then
  log "installing Debian chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi

# npm packages: echarts (served by Sightline), binaryen (wasm-opt), Playwright.
npm_install() {
  local dir=$1
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
npm_install .
npm_install end2end

# ECharts is served by Sightline itself: esbuild bundles only the charts and components
# the pages draw (frontend/echarts/sightline-echarts.js) into the site's assets, a third of
# the full build's size. Rebuilt when the entry or the pinned packages change.
mkdir -p public/vendor
ECHARTS_ENTRY=frontend/echarts/sightline-echarts.js
ECHARTS_OUT=public/vendor/echarts.min.js
if [ ! -s "$ECHARTS_OUT" ] || [ "$ECHARTS_ENTRY" -nt "$ECHARTS_OUT" ] || [ package-lock.json -nt "$ECHARTS_OUT" ]; then
  log "bundling ECharts into $ECHARTS_OUT"
  node_modules/.bin/esbuild "$ECHARTS_ENTRY" --bundle --minify --format=iife --target=es2019 \
    --legal-comments=none --log-level=warning --outfile="$ECHARTS_OUT" \
    --banner:js="/*! Apache ECharts $(node -p "require('echarts/package.json').version") (Apache-2.0) and ZRender (BSD-3-Clause), bundled by Sightline */"
fi
