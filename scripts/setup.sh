#!/usr/bin/env bash
# Set up a development environment: .venv with runtime + test requirements, the Node tools, and
# (as root, from Debian) the PostgreSQL and Redis servers that the tests start on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v initdb >/dev/null || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "${need[*]} not installed: the PostgreSQL/Redis tests will be skipped (sudo apt-get install ${need[*]})" >&2
  fi
fi
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements-dev.txt
npm ci --no-audit --no-fund --silent
# anny's model cache (the custom avatars' body model, ~800 MB): built once per machine, ~4 minutes
# the first time on 2 cores; the app's workers would otherwise build it as they warm.
.venv/bin/python -c "from core.avatars.builder import ensure_model_cache; ensure_model_cache()"
