#!/usr/bin/env bash
# Creates or refreshes the project virtualenv from the pinned requirements (runtime + tests).
# The venv is rebuilt only when a pin file or pyproject.toml changed since the last
# install (a stamp holds their hash), so `make demo` and `make test` stay fast after the first run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${ZOOM_SAM_VENV:-$root/.venv}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3
want="$(cat "$root/requirements.txt" "$root/requirements-dev.txt" "$root/pyproject.toml" | sha256sum | cut -d' ' -f1)"
stamp="$venv/.zoom-sam-stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/airflow" ]; then
  exit 0
fi
echo "bootstrap: installing pinned requirements into $venv" >&2
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/requirements-dev.txt"
# Registers the `zoom` connection type (provider entry point); --no-deps keeps the pins authoritative.
# The checkout's src/ still comes first for every process: scripts/env.sh puts it on PYTHONPATH.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$root"
echo "$want" > "$stamp"
