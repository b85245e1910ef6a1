#!/usr/bin/env bash
# Creates target/phoenixenv, the venv of Arize Phoenix, the peer `cargo bench --bench otlp`
# compares with, from the pinned benches/python/requirements.txt (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/python-env.sh target/phoenixenv benches/python/requirements.txt
