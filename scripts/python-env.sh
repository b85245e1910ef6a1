#!/usr/bin/env bash
# Creates a venv from pinned requirements files. By default target/pyenv, the real Python
# clients the integration tests run (the OpenTelemetry SDK and its OTLP exporters, FastAPI
# with its instrumentation, the official openai and anthropic SDKs), from every
# tests/python/requirements*.txt; `scripts/python-env.sh VENV REQUIREMENTS…` for another
# (scripts/phoenix-env.sh). Idempotent: skipped while the stamp file holds the hash of
# exactly these lists. Tests that need a client fail (not skip) when the venv is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '\033[1;34m[python-env]\033[0m %s\n' "$*" >&2; }

venv=${1:-target/pyenv}
if [ $# -gt 1 ]; then
  requirements=("${@:2}")
else
  requirements=(tests/python/requirements*.txt)
fi
stamp="$venv/.installed"
want=$(cat "${requirements[@]}" | sha256sum | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  log "installing python3-venv"
  apt-get install -y -q python3-venv >/dev/null
fi
log "creating $venv from ${requirements[*]}"
rm -f "$stamp"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check $(printf -- '-r %s ' "${requirements[@]}")
echo "$want" > "$stamp"
