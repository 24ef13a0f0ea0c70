"""The package's layout: agents own their behaviour, the market imports them, and no import cycles.

The source folders are not laid out as the package is: pyproject.toml's ``package-dir`` maps them
(``funnelsim/`` -> ``funnelsim`` with ``funnelsim/cli/`` -> ``funnelsim.cli``, ``model/`` ->
``funnelsim.model``, ``agents/`` -> ``funnelsim.agents``, ``experiments/`` ->
``funnelsim.experiments`` with its ``calibration/`` and ``optimization/`` subpackages, ``viz/`` ->
``funnelsim.viz``). The test reads that mapping and the ``packages`` list from pyproject.toml, so a
new folder or subpackage is checked as soon as it is declared, and parses every module with
:mod:`ast` rather than importing it (importing would hide an import made inside a function, and
would need every optional dependency).
"""

from __future__ import annotations

import ast
import graphlib
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _modules() -> dict[str, Path]:
    """Every module of the package: dotted name -> source file, from pyproject.toml."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    package_dir: dict[str, str] = setuptools["package-dir"]
    modules = {}
    for package in setuptools["packages"]:
        # The folder of a package: the longest mapped prefix, then one folder per further part.
        mapped = max((name for name in package_dir if package == name or package.startswith(name + ".")), key=len)
        folder = ROOT / package_dir[mapped] / Path(*package.split(".")[len(mapped.split(".")) :])
        for source in sorted(folder.glob("*.py")):
            modules[package if source.stem == "__init__" else f"{package}.{source.stem}"] = source
    return modules


MODULES = _modules()


def _imports(module: str, source: Path, *, inside_functions: bool) -> set[str]:
    """The package's modules that ``module`` imports: at import time only (module level, class
    bodies and ``if`` blocks), or also inside functions.

    ``from a.b import c`` names module ``a.b.c`` when that is a module, else ``a.b``. An import
    names the module itself, not its parent packages, whose ``__init__`` Python runs first but
    which only re-export.
    """
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    package = module if source.stem == "__init__" else module.rpartition(".")[0]
    found: set[str] = set()

    def known(name: str) -> str | None:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        return name or None

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and not inside_functions:
                continue
            if isinstance(child, ast.Import):
                found.update(filter(None, (known(alias.name) for alias in child.names)))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.rsplit(".", child.level - 1)[0] if child.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                for alias in child.names:
                    target = f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else known(base)
                    if target:
                        found.add(target)
            visit(child)

    visit(tree)
    found.discard(module)
    return found


def test_the_layout_is_read_from_pyproject():
    # A check over nothing would pass: make sure the mapping found the folders it should.
    for module in ("funnelsim", "funnelsim.cli.main", "funnelsim.model.market", "funnelsim.agents.funnel",
                   "funnelsim.experiments.engine", "funnelsim.experiments.calibration.api", "funnelsim.viz.app"):
        assert module in MODULES
    assert MODULES["funnelsim.agents.salesperson"] == ROOT / "agents" / "salesperson.py"
    # The scenario loader imports the network reader inside a function only (it reads network files).
    scenario = MODULES["funnelsim.model.scenario"]
    assert "funnelsim.model.network" in _imports("funnelsim.model.scenario", scenario, inside_functions=True)
    assert "funnelsim.model.network" not in _imports("funnelsim.model.scenario", scenario, inside_functions=False)


def _in_model(module: str) -> bool:
    return module == "funnelsim.model" or module.startswith("funnelsim.model.")


def test_agents_never_import_the_model():
    """model/ (the market) imports agents/ (what consumers, marketers and salespeople do), never
    the reverse, not even inside a function, and not through another module (``funnelsim``
    itself imports the scenario loader, so ``from funnelsim import ...`` would count)."""
    every = {module: _imports(module, source, inside_functions=True) for module, source in MODULES.items()}
    agents = [module for module in MODULES if module.startswith("funnelsim.agents")]
    direct = {module: sorted(filter(_in_model, every[module])) for module in agents}
    assert {module: targets for module, targets in direct.items() if targets} == {}
    for module in agents:
        seen, todo = {module}, [module]
        while todo:
            for target in every[todo.pop()] - seen:
                assert not _in_model(target), f"{module} imports {target} through other modules"
                seen.add(target)
                todo.append(target)
    assert any(target.startswith("funnelsim.agents.")
               for target in _imports("funnelsim.model.market", MODULES["funnelsim.model.market"], inside_functions=False))


def test_no_import_cycles_at_import_time():
    graph = {module: _imports(module, source, inside_functions=False) for module, source in MODULES.items()}
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        raise AssertionError(f"import cycle: {' -> '.join(error.args[1])}") from None
    assert set(order) >= set(MODULES)
