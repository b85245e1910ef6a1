#!/usr/bin/env bash
# Runs every test of Sightline: the README's test command, and what CI runs.
#   1. installs missing tools (idempotent);
#   2. starts the local PostgreSQL if it is down;
#   3. the Python clients of the OTLP and gateway tests into target/pyenv (idempotent);
#   4. cargo test for the whole workspace (each storage test on SQLite and PostgreSQL);
#   5. builds the release site once;
#   6. runs the Playwright tests in end2end/ against it in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# A one-off build (CI's clean clone) is quicker and some gigabytes smaller without
# incremental compilation; set CARGO_INCREMENTAL=1 to keep it.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
log() { printf '\033[1;34m[test]\033[0m %s\n' "$*" >&2; }

scripts/install-tools.sh

export SIGHTLINE_TEST_POSTGRES_URL="${SIGHTLINE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

log "Python clients of the OTLP and gateway tests"
scripts/python-env.sh

log "cargo test --workspace"
cargo test --workspace --locked

log "building the release site"
scripts/build.sh

log "end-to-end tests in Chromium"
(cd end2end && npx playwright test)
