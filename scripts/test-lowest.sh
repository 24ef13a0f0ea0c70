#!/usr/bin/env bash
# The minimum versions in pyproject.toml are promises: install the lowest versions it allows
# (uv's lowest-direct resolution: every direct dependency at its minimum, the rest as pip would
# pick them) into a fresh virtual environment, and run the fast tests there.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python3 || command -v python)}
VENV=${LOWEST_VENV:-.venv-lowest}

"$PYTHON" -m pip install --quiet --disable-pip-version-check "uv>=0.5"
"$PYTHON" -m uv venv --quiet --allow-existing --python "$PYTHON" "$VENV"
# --python names the environment outright: uv would otherwise pick the interpreter it was run with.
"$PYTHON" -m uv pip install --quiet --python "$VENV/bin/python" --resolution lowest-direct -e ".[test]"
echo "== lowest allowed versions:"
"$PYTHON" -m uv pip list --python "$VENV/bin/python" 2>/dev/null \
    | grep -iE '^(mesa|numpy|numba|scipy|networkx|matplotlib|pandas|pyarrow|pydantic|salib|duckdb|optuna|pyabc) ' \
    | tr -s ' ' | paste -sd ',' -
# numba caches compiled loops beside the sources; this environment's older numba keeps its own.
export NUMBA_CACHE_DIR="$(cd "$VENV" && pwd)/numba-cache"  # absolute: tests run commands in other folders
"$VENV/bin/python" -m pytest -q -p no:cacheprovider \
    tests/test_scenario.py tests/test_engine.py tests/test_mechanisms.py tests/test_network.py \
    tests/test_results.py tests/test_expressions.py tests/test_competition.py "$@"
