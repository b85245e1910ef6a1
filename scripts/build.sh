#!/usr/bin/env bash
# Builds the release site: the server binary, the wasm bundle and the CSS into target/site.
set -euo pipefail
cd "$(dirname "$0")/.."
# cargo-leptos finds wasm-opt (npm's binaryen) on PATH; Debian's is too old.
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# --precompress writes brotli (and gzip) copies of the site's files next to them; the
# server sends the brotli one to a browser that takes it (leptos_axum's static files). Its
# gzip copies are larger than what the server's own gzip makes on the fly (1 014 KB
# against 854 KB for the wasm), so they go, and a gzip-only client gets the latter.
cargo leptos build --release --precompress
find target/site -name '*.gz' -delete
