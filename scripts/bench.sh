#!/usr/bin/env bash
# Runs every benchmark of Sightline in sequence, each printing its table:
#   cargo bench --bench ingest | dashboard | export | prune | detection | otlp (after
#   scripts/phoenix-env.sh installs Arize Phoenix, its peer, into target/phoenixenv) | gateway
#   (after scripts/bench-env.sh installs LiteLLM's proxy into target/benchenv) | floods
#   (ingest during stalled exports and a sign-in flood), and the tracker's overhead bench.
# The SIGHTLINE_BENCH_* variables (SIGHTLINE_BENCH_REQUESTS, SIGHTLINE_BENCH_DATABASES…)
# and SIGHTLINE_TEST_POSTGRES_URL pass through to every bench. Extra arguments go to
# each `cargo bench` (`scripts/bench.sh --no-run` only builds them).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
log() { printf '\033[1;34m[bench]\033[0m %s\n' "$*" >&2; }

export SIGHTLINE_TEST_POSTGRES_URL="${SIGHTLINE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
for var in $(compgen -e | grep '^SIGHTLINE_BENCH_' || true); do
  log "$var=${!var}"
done

scripts/phoenix-env.sh  # Arize Phoenix, the peer of the otlp bench
for bench in ingest dashboard export prune detection otlp gateway floods; do
  log "cargo bench --bench $bench"
  cargo bench --bench "$bench" "$@"
done
log "cargo bench -p sightline-tracker --bench overhead"
cargo bench -p sightline-tracker --bench overhead "$@"
