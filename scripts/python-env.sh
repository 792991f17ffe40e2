#!/usr/bin/env bash
# Creates .venv-python (ignored) with the Python package and its test extras, once: a second run only checks.
# pip reaches PyPI by name; nothing else is downloaded. Prints the venv's directory on stdout.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv-python"
stamp="$venv/.installed"
# Reinstall when the package's declared dependencies change.
if [ -f "$stamp" ] && [ "$stamp" -nt "$root/python/pyproject.toml" ] && [ -x "$venv/bin/python" ]; then
  echo "$venv"
  exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
  if ! python3 -m venv "$venv" >&2; then
    rm -rf "$venv"
    echo "python3 -m venv failed: install Python 3.10 or newer with its venv module (on Debian and Ubuntu, apt-get install python3-venv)." >&2
    exit 1
  fi
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root/python[test]" >&2
touch "$stamp"
echo "$venv"
