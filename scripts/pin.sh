#!/usr/bin/env bash
# `make pin`: resolve pyproject.toml's ranges afresh into the two pin files.
#   requirements.txt      every package the runtime needs (what a production image installs)
#   requirements-dev.txt  requirements.txt plus what the tests add (what .venv installs)
# PIN_CONSTRAINTS=<file> holds the resolution to given versions (to re-pin without upgrading).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3.11 -m venv "$work/venv"
pip="$work/venv/bin/python -m pip --quiet --disable-pip-version-check"
constraints=()
[ -n "${PIN_CONSTRAINTS:-}" ] && constraints=(-c "$PIN_CONSTRAINTS")
# pip freeze hides setuptools unless --all: the runtime never needs it, the tests build the wheel with it.
freeze() { "$work/venv/bin/python" -m pip freeze --exclude zoom-sam --exclude pip "$@" | LC_ALL=C sort; }
$pip install "${constraints[@]}" "$root"
freeze > "$work/runtime"
$pip install "${constraints[@]}" "$root[dev]"
freeze --all > "$work/all"
{ echo "# The runtime resolution of pyproject.toml on Python 3.11. Regenerate with \`make pin\`."; cat "$work/runtime"; } \
  > "$root/requirements.txt"
{ echo "# What the tests add to the runtime pins. Regenerate with \`make pin\`."; echo "-r requirements.txt";
  LC_ALL=C comm -13 "$work/runtime" "$work/all"; } > "$root/requirements-dev.txt"
