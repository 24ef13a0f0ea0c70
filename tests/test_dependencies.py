"""Every third-party package the code imports is declared in pyproject.toml.

An undeclared import works on the developer's machine (where something else pulled the package
in) and fails for a user who installs funnelsim alone. The check reads the imports with
:mod:`ast` (so nothing is imported), maps each to the distributions that provide it with
:func:`importlib.metadata.packages_distributions`, and looks for one of them among the declared
requirements: the core dependencies and the extras (an extra's own extras count too, e.g.
``dask[distributed]`` declares ``distributed``, and so do the requirements of a metapackage that
holds no module itself, e.g. ``solara`` declares ``solara-ui``). The test suite may also use the
``test`` extra.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
#: The folders that make up the installed package (see [tool.setuptools] package-dir).
PACKAGE = ["funnelsim", "model", "agents", "experiments", "viz"]
#: The package itself; the modules next to the scanned files are found by name.
OWN = {"funnelsim"}


def normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them (``SALib`` -> ``salib``, ``tomli_w`` -> ``tomli-w``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement(text: str) -> tuple[str, list[str]]:
    """``"dask[distributed]>=2024.1"`` -> ``("dask", ["distributed"])``."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", text)
    assert match, text
    extras = [extra.strip() for extra in (match.group(2) or "").split(",") if extra.strip()]
    return normalized(match.group(1)), extras


def declared(groups: list[str]) -> set[str]:
    """Distributions the core dependencies and the given extras bring in by name."""
    texts = list(PYPROJECT["project"]["dependencies"])
    for group in groups:
        texts += PYPROJECT["project"]["optional-dependencies"][group]
    with_modules = {normalized(name) for names in importlib.metadata.packages_distributions().values() for name in names}
    names: set[str] = set()
    for text in texts:
        name, extras = requirement(text)
        if name == "funnelsim":
            continue  # the test extra names the others through funnelsim[...]
        names.add(name)
        metapackage = name not in with_modules
        for line in importlib.metadata.requires(name) or []:
            condition = line.partition(";")[2]
            wanted = any(re.search(rf"extra\s*==\s*['\"]{re.escape(extra)}['\"]", condition) for extra in extras)
            if wanted or (metapackage and "extra" not in condition):
                names.add(requirement(line)[0])
    return names


def imported(folders: list[str]) -> dict[str, str]:
    """Top-level third-party modules imported under ``folders``, each with one file importing it."""
    found: dict[str, str] = {}
    paths = [path for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))]
    local = OWN | set(folders) | {path.stem for path in paths} | {path.parent.name for path in paths}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


EXTRAS = [group for group in PYPROJECT["project"]["optional-dependencies"] if group != "test"]


@pytest.mark.parametrize(
    ("folders", "groups"),
    [(PACKAGE, EXTRAS), (["tests", "benchmarks"], [*EXTRAS, "test"])],
    ids=["package", "tests and benchmarks"],
)
def test_every_imported_package_is_declared(folders, groups):
    providers = importlib.metadata.packages_distributions()
    allowed = declared(groups)
    missing = []
    for module, where in sorted(imported(folders).items()):
        distributions = {normalized(name) for name in providers.get(module, [])}
        if not distributions & allowed:
            missing.append(f"{module} (imported in {where}; provided by {sorted(distributions) or 'nothing installed'})")
    assert not missing, "imported but not declared in pyproject.toml: " + "; ".join(missing)


def test_the_check_sees_an_undeclared_import(tmp_path, monkeypatch):
    # The check itself must be able to fail: a module that imports an undeclared package.
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("import os\nimport yaml\nfrom numpy import array\nfrom . import sibling\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert imported(["pkg"]) == {"yaml": "pkg/m.py", "numpy": "pkg/m.py"}
    assert "numpy" in declared([]) and "pyyaml" not in declared(EXTRAS)
