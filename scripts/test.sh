#!/usr/bin/env bash
# Install everything the test suite needs on a fresh machine, then run it.
#   1. funnelsim itself with its `test` extra (pytest, hypothesis, Playwright, the viz stack);
#   2. Debian's Chromium and npm, and Solara's front-end files, for the browser tests;
#   3. pytest over tests/.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k bass`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python3 || command -v python)}
export PYTHON

echo "== installing funnelsim[test]"
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e ".[test]"

echo "== installing the browser test dependencies"
status=0
bash scripts/install-browser-deps.sh || status=$?
if [ "$status" -eq 3 ]; then
    # No root here: Debian's Chromium cannot be installed, so run everything else and say so.
    echo "== SKIPPING the browser tests (tests/browser): installing Chromium needs root or sudo"
    export FUNNELSIM_SKIP_BROWSER="Chromium could not be installed (no root or sudo)"
elif [ "$status" -ne 0 ]; then
    exit "$status"
fi

echo "== running the tests"
exec "$PYTHON" -m pytest "$@"
