#!/usr/bin/env bash
# The peers the benchmarks compare Sightline with (LiteLLM's proxy), in a venv under
# target/benchenv, apart from the tests' venv. Idempotent: a stamp file holds the hash
# of the pinned requirements. benches/gateway.rs runs it before it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1;34m[bench-env]\033[0m %s\n' "$*" >&2; }

venv=target/benchenv
requirements=benches/requirements-gateway-bench.txt
stamp="$venv/.requirements.sha256"
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
if [[ -x "$venv/bin/litellm" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
  exit 0
fi
log "installing $requirements into $venv (LiteLLM is large: a few minutes the first time)"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
echo "$wanted" > "$stamp"
log "ready"
