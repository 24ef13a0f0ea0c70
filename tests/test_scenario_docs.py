"""docs/scenario-reference.md is generated from the schema and documents every key."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel

from funnelsim.experiments import scenario_docs
from funnelsim.model.scenario import Scenario

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "scenario-reference.md"


def schema_keys(model: type[BaseModel] = Scenario, prefix: str = "") -> list[str]:
    """Every leaf setting of the schema, as dotted keys with N for list positions (walked independently)."""
    keys = []
    for name, field in model.model_fields.items():
        section, is_list = scenario_docs._section_of(field.annotation)
        dotted = f"{prefix}{name}"
        if section is None:
            keys.append(dotted)
        else:
            keys += schema_keys(section, f"{dotted}.N." if is_list else f"{dotted}.")
    return keys


def reference_rows(text: str) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        match = re.match(r"\| `([^`]+)` \| (.*) \|$", line)
        if match:
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", match.group(2))]
            if len(cells) == 4:  # the settings tables, not the Bass-limit or built-in tables
                rows[match.group(1)] = cells
    return rows


def test_the_committed_reference_is_what_the_generator_makes_now():
    assert REFERENCE.read_text(encoding="utf-8") == scenario_docs.render(), (
        "docs/scenario-reference.md is out of date: run `python -m funnelsim.experiments.scenario_docs`"
    )


def test_every_key_of_the_schema_has_a_row_with_type_default_bounds_and_description():
    rows = reference_rows(scenario_docs.render())
    keys = schema_keys()
    assert len(keys) > 50
    for key in keys:
        assert key in rows, f"{key} is missing from the reference"
        type_, default, allowed, description = rows[key]
        assert type_ and default and allowed and description, f"{key}: an empty cell in {rows[key]}"


def test_rows_show_what_the_schema_says():
    rows = reference_rows(scenario_docs.render())
    assert rows["market.consumers"][:3] == ["integer", "`2000`", "1 to 100000000"]
    assert rows["market.in_market_share"][0:3:2] == ["number", "0 to 1"]
    assert rows["firms.N.name"][1] == "required"
    assert '`"watts_strogatz"`' in rows["network.kind"][2] and '`"sbm"`' in rows["network.kind"][2]
    assert rows["network.path"][0] == "text (optional)"


def test_check_mode_tells_a_stale_file_from_a_current_one(tmp_path, capsys):
    stale = tmp_path / "reference.md"
    stale.write_text("# old\n")
    assert scenario_docs.main(["--output", str(stale), "--check"]) == 1
    assert scenario_docs.main(["--output", str(stale)]) == 0
    assert scenario_docs.main(["--output", str(stale), "--check"]) == 0
    assert stale.read_text(encoding="utf-8") == scenario_docs.render()


def test_the_module_runs_as_a_script():
    result = subprocess.run(
        [sys.executable, "-m", "funnelsim.experiments.scenario_docs", "--output", "-"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout == scenario_docs.render()
