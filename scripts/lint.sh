#!/usr/bin/env bash
# Lint: ruff (pyflakes, pycodestyle, import order, bugbear), then mypy over the package.
# mypy cannot follow setuptools' editable-install import hook, which maps the top-level folders
# (model/, agents/, ...) onto the `funnelsim` namespace, so the package is laid out for it as a
# tree of links in a temporary folder, exactly as an installed copy would be.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3 || command -v python)}

"$PYTHON" -m pip install --quiet --disable-pip-version-check "ruff>=0.6" "mypy>=1.10"
"$PYTHON" -m ruff check .

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/funnelsim"
for item in funnelsim/*; do ln -s "$PWD/$item" "$tree/funnelsim/"; done
for sub in model agents experiments viz; do ln -s "$PWD/$sub" "$tree/funnelsim/$sub"; done
(cd "$tree" && "$PYTHON" -m mypy --config-file "$OLDPWD/pyproject.toml" -p funnelsim)
