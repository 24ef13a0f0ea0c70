"""The scenario reference (docs/scenario-reference.md), generated from the pydantic schema.

Every key of a scenario file, with its type, default, allowed values and description, read from
:mod:`funnelsim.model.scenario`, so the reference cannot drift from what the loader accepts. A
test compares the committed file with :func:`render`; regenerate it with::

    python -m funnelsim.experiments.scenario_docs            # rewrite docs/scenario-reference.md
    python -m funnelsim.experiments.scenario_docs --check    # exit 1 if the file is out of date
    python -m funnelsim.experiments.scenario_docs --output -  # print to stdout
"""

from __future__ import annotations

import argparse
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

#: Where the reference lives in a source checkout (funnelsim installed editable).
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "scenario-reference.md"

REGENERATE = "python -m funnelsim.experiments.scenario_docs"


@dataclass
class Key:
    """One setting: its dotted name (as for ``--set``) and how the schema defines it."""

    dotted: str
    type: str
    default: str
    allowed: str
    description: str


@dataclass
class Table:
    """One TOML table of the scenario and the settings directly in it."""

    toml: str  # how it is written in a file: [market], [[firms]], [firms.marketing.mix]
    dotted: str  # prefix for --set: market, firms.N, firms.N.marketing.mix
    description: str
    keys: list[Key]


# ---------------------------------------------------------------------------------------------
# Walking the schema


def schema_tables() -> list[Table]:
    """Every table of the scenario schema, depth first, in the order the schema declares them."""
    from funnelsim.model.scenario import Scenario

    tables: list[Table] = []
    _walk(Scenario, toml="(top level)", dotted="", description=Scenario.__doc__ or "", toml_path=[], out=tables)
    return tables


def _walk(model: type[BaseModel], toml: str, dotted: str, description: str, toml_path: list[str], out: list[Table]) -> None:
    table = Table(toml, dotted, _one_line(description), [])
    out.append(table)
    nested: list[tuple[str, FieldInfo, type[BaseModel], bool]] = []
    for name, field in model.model_fields.items():
        section, is_list = _section_of(field.annotation)
        if section is not None:
            nested.append((name, field, section, is_list))
            continue
        key = f"{dotted}.{name}" if dotted else name
        table.keys.append(
            Key(
                dotted=key,
                type=_type_name(field.annotation),
                default=_default(field),
                allowed=_allowed(field),
                # A key without its own description is described by its table (e.g. mix shares).
                description=_one_line(field.description or description),
            )
        )
    for name, field, section, is_list in nested:
        path = [*toml_path, name]
        child_dotted = f"{dotted}.{name}" if dotted else name
        if is_list:
            child_dotted += ".N"
            child_toml = f"[[{'.'.join(path)}]]"
        else:
            child_toml = f"[{'.'.join(path)}]"
        text = field.description or section.__doc__ or ""
        notes = []
        if _is_optional(field.annotation):
            notes.append("Optional: leave the table out to not use it.")
        if is_list:
            bounds = _allowed(field)
            notes.append(f"A list of tables, one `{child_toml}` per entry ({bounds}); `N` counts from 0 in `--set`.")
        _walk(section, child_toml, child_dotted, " ".join([text, *notes]).strip(), path, out)


def _section_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The table type behind a field (``Market``, ``list[Firm]``, ``Bass | None``) and whether it is a list."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is list and arguments:
        section, _ = _section_of(arguments[0])
        return section, section is not None
    if origin in (typing.Union, types.UnionType):
        for argument in arguments:
            section, is_list = _section_of(argument)
            if section is not None:
                return section, is_list
    return None, False


def _is_optional(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)


def _type_name(annotation: Any) -> str:
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    if annotation is float:
        return "number"
    if annotation is str:
        return "text"
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin is typing.Literal:
        return "text"
    if origin in (typing.Union, types.UnionType):
        named = [_type_name(argument) for argument in arguments if argument is not type(None)]
        optional = " (optional)" if type(None) in arguments else ""
        return " or ".join(named) + optional
    if origin is list:
        return f"list of {_type_name(arguments[0])}" if arguments else "list"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    if field.default_factory is not None:
        return "(table)"
    return _toml_value(field.default)


def _toml_value(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value!r}`"


def _allowed(field: FieldInfo) -> str:
    literal = _literal_values(field.annotation)
    if literal:
        return "one of " + ", ".join(f'`"{value}"`' for value in literal)
    lower: tuple[str, Any] | None = None  # (symbol, bound)
    upper: tuple[str, Any] | None = None
    parts = []
    for constraint in field.metadata:
        if isinstance(constraint, annotated_types.Ge):
            lower = ("≥", constraint.ge)
        elif isinstance(constraint, annotated_types.Gt):
            lower = (">", constraint.gt)
        elif isinstance(constraint, annotated_types.Le):
            upper = ("≤", constraint.le)
        elif isinstance(constraint, annotated_types.Lt):
            upper = ("<", constraint.lt)
        elif isinstance(constraint, annotated_types.MinLen):
            parts.append(f"at least {constraint.min_length}" + (" character" if field.annotation is str else ""))
        elif isinstance(constraint, annotated_types.MaxLen):
            parts.append(f"at most {constraint.max_length}")
    if lower and upper:
        if lower[0] == "≥" and upper[0] == "≤":
            parts.insert(0, f"{_number(lower[1])} to {_number(upper[1])}")
        else:
            flipped = {"≥": "≤", ">": "<"}[lower[0]]
            parts.insert(0, f"{_number(lower[1])} {flipped} x {upper[0]} {_number(upper[1])}")
    elif (one_side := lower or upper) is not None:
        symbol, bound = one_side
        parts.insert(0, f"{symbol} {_number(bound)}")
    return ", ".join(parts) if parts else "any"


def _literal_values(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) is typing.Literal:
        return typing.get_args(annotation)
    for argument in typing.get_args(annotation):
        found = _literal_values(argument)
        if found:
            return found
    return ()


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# Rendering


def render() -> str:
    """The whole reference as Markdown."""
    from funnelsim.model.scenario import builtin_description, builtin_names

    tables = schema_tables()
    lines = [
        "# Scenario reference",
        "",
        f"<!-- Generated from the schema in model/scenario.py by `{REGENERATE}`. Do not edit by hand. -->",
        "",
        "A scenario is a TOML file. Every key has a default except `firms` (at least one firm) and each firm's "
        "`name`, so a file only says what differs. An unknown key, a value of the wrong type or a value outside "
        "the allowed range stops the run with one line naming the key and the file. Integers must be written "
        "without a decimal point; numbers may be written either way.",
        "",
        "The **key** column is the dotted name that `funnelsim run --set KEY=VALUE` and "
        "`load_scenario(..., overrides={KEY: VALUE})` take; in `firms.N`, `N` is the firm's position, from 0.",
        "",
        "Tables:",
        "",
    ]
    for table in tables:
        lines.append(f"- [`{table.toml}`](#{_anchor(table.toml)})")
    lines.append("")
    for table in tables:
        lines += [f"## {table.toml}", ""]
        if table.description:
            lines += [table.description, ""]
        if table.keys:
            lines += ["| key | type | default | allowed | description |", "| --- | --- | --- | --- | --- |"]
            for key in table.keys:
                cells = [f"`{key.dotted}`", key.type, key.default, key.allowed, key.description]
                lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
            lines.append("")
    lines += _bass_section()
    lines += ["## Built-in scenarios", "", "| name | description |", "| --- | --- |"]
    for name in builtin_names():
        lines.append(f"| `{name}` | {_cell(builtin_description(name))} |")
    lines.append("")
    return "\n".join(lines)


def _bass_section() -> list[str]:
    """The settings the ``[bass]`` table requires, as the loader checks them (for the built-in bass)."""
    from funnelsim.model.scenario import bass_limit_requirements, load_scenario

    scenario = load_scenario("bass")
    lines = [
        "## Settings the Bass limit requires",
        "",
        "When a scenario has a `[bass]` table, the loader derives every setting below from `bass.p` and `bass.q` "
        "where the scenario leaves it unset, and refuses a scenario that sets one to another value "
        "(values as for the built-in `bass` scenario; the budget depends on `market.consumers` and the media "
        "cost per thousand). The network is free: on any network but the complete graph it is the network "
        "Bass model.",
        "",
        "| key | required value |",
        "| --- | --- |",
    ]
    for key, value in bass_limit_requirements(scenario).items():
        shown = _toml_value(value) if isinstance(value, (bool, int, float, str)) else repr(value)
        lines.append(f"| `{key}` | {_cell(shown)} |")
    lines.append("")
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    kept = "".join(ch for ch in heading.lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


# ---------------------------------------------------------------------------------------------
# Command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=REGENERATE, description="Generate the scenario reference from the schema.")
    parser.add_argument(
        "--output", default=str(DEFAULT_OUTPUT), metavar="PATH", help=f"file to write, or - for stdout (default: {DEFAULT_OUTPUT})"
    )
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if the file differs from the schema")
    args = parser.parse_args(argv)
    text = render()
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    path = Path(args.output)
    if args.check:
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != text:
            print(f"{path}: out of date; run `{REGENERATE}`", file=sys.stderr)
            return 1
        print(f"{path}: up to date")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
