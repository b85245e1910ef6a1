#!/usr/bin/env bash
# Builds the release site: the server binary, the wasm bundle and the CSS into target/site.
set -euo pipefail
cd "$(dirname "$0")/.."
# cargo-leptos finds wasm-opt (npm's binaryen) on PATH; Debian's is too old.
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# --precompress writes gzip and brotli copies of the site's files next to them; the server
# sends the brotli one to a browser that takes it (leptos_axum's static files).
cargo leptos build --release --precompress
