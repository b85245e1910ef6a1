#!/usr/bin/env bash
# Builds the release site: the server binary, the wasm bundle and the CSS into target/site.
set -euo pipefail
cd "$(dirname "$0")/.."
# cargo-leptos finds wasm-opt (npm's binaryen) on PATH; Debian's is too old.
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
cargo leptos build --release
