#!/usr/bin/env bash
# Install gil-advisor with its test dependencies into a venv and run the suite with branch
# coverage. PYTHON picks the interpreter (default: python3); extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
tag=$("$PYTHON" -c 'import sys; print("%d%d" % sys.version_info[:2])')
venv=".venv-test-$tag"
if [ ! -x "$venv/bin/python" ]; then
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
fi
"$venv/bin/python" -m pip install -q -e '.[test,trace]'
echo "== Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())') =="
rm -f .coverage .coverage.*
status=0
"$venv/bin/python" -m coverage run -m pytest "$@" || status=$?
"$venv/bin/python" -m coverage combine -q >/dev/null 2>&1 || true
"$venv/bin/python" -m coverage report --skip-covered --sort=cover | tail -n 25 || true
exit $status
