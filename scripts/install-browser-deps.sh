#!/usr/bin/env bash
# Install what `funnelsim serve` needs offline and what the browser tests need:
#   - Debian's Chromium (Playwright cannot download its own browser on machines without internet)
#     and npm (to fetch Solara's front-end files from the npm registry), if missing;
#   - Playwright for Python, if missing (it is also in the `test` extra);
#   - the local copy of Solara's front-end files (python -m funnelsim.viz.assets fill).
# Safe to run again: each step is skipped when its result is already there.
# Set PYTHON to choose the interpreter funnelsim is installed in (default: python, else python3).
set -euo pipefail

PYTHON=${PYTHON:-$(command -v python || command -v python3)}

# Exit code 3 means "cannot install the Debian packages here" (no root, no sudo), so that
# scripts/test.sh can run every test that does not need the browser and say what it skipped.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo "$@"
    else
        echo "install-browser-deps: need root (or password-less sudo) to run: $*" >&2
        exit 3
    fi
}

missing=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-browser-deps: apt-get install ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! "$PYTHON" -c "import playwright" >/dev/null 2>&1; then
    echo "install-browser-deps: pip install playwright"
    "$PYTHON" -m pip install --quiet "playwright>=1.40"
fi

"$PYTHON" -m funnelsim.viz.assets fill
