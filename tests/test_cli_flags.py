"""The same flag means the same thing in every command, every command's --help shows a working
example, and a misspelt command, option or setting gets a "did you mean" in one line with exit
code 2 (the subprocess check of a bad command is in test_cli_main.py)."""

from __future__ import annotations

import shlex

import pytest

from funnelsim.cli import build_parser, main
from funnelsim.cli.arguments import MEANINGS, OPTION_STRINGS

VERBOSITY = {"--verbose", "--quiet"}
RUNS = {"--set", "--steps", "--replications", "--seed", "--workers", "--scheduler"}

#: The shared flags each command has: every one where it makes sense. A new command must be
#: listed here, so that someone decides which of the shared flags it takes.
EXPECTED = {
    "run": RUNS | {"--max-runs", "--out", "--overwrite", "--no-figures"} | VERBOSITY,
    "sweep": RUNS | {"--max-runs", "--out", "--no-figures"} | VERBOSITY,
    "compare": RUNS | {"--max-runs", "--out", "--overwrite", "--no-figures"} | VERBOSITY,
    "elasticities": RUNS | {"--max-runs"} | VERBOSITY,
    "optimize": RUNS | {"--max-runs", "--out", "--overwrite", "--no-figures"} | VERBOSITY,
    # Calibration runs as many simulations as its --budget says, over the data's periods.
    "calibrate": {"--set", "--seed", "--workers", "--scheduler", "--out", "--overwrite", "--no-figures"} | VERBOSITY,
    "validate": {"--set"} | VERBOSITY,
    "analyze": {"--no-figures"} | VERBOSITY,
    "scenarios": VERBOSITY,
    "report": VERBOSITY,
    "studies": VERBOSITY,
    "serve": {"--set"} | VERBOSITY,
}

PARSER = build_parser()
COMMANDS = PARSER.commands


def test_every_command_is_listed_with_the_shared_flags_it_takes():
    assert set(COMMANDS) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_shared_flag_has_the_same_option_strings_and_meaning_everywhere(name):
    options = COMMANDS[name]._option_string_actions
    for flag in MEANINGS:
        if flag not in EXPECTED[name]:
            assert flag not in options, f"{name} has {flag}: add it to EXPECTED if it makes sense there"
            continue
        assert flag in options, f"{name} lacks {flag}"
        action = options[flag]
        assert tuple(action.option_strings) == OPTION_STRINGS.get(flag, (flag,)), (name, flag)
        assert action.help.startswith(MEANINGS[flag]), (name, flag, action.help)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_short_form_always_stands_for_the_same_flag(name):
    options = COMMANDS[name]._option_string_actions
    for flag, strings in OPTION_STRINGS.items():
        for short in (string for string in strings if not string.startswith("--")):
            if short in options:
                assert flag in options[short].option_strings, (name, short)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_help_ends_with_examples_that_parse(name, capsys):
    with pytest.raises(SystemExit) as stop:
        main([name, "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    heading = "\nexample:\n" if "\nexample:\n" in text else "\nexamples:\n"
    assert heading in text, f"{name} --help has no example"
    examples = [line.strip() for line in text.split(heading, 1)[1].splitlines() if line.startswith("  funnelsim ")]
    assert examples, name
    assert any(example.startswith(f"funnelsim {name}") for example in examples)
    for example in examples:
        # Parsing only (no run): an example with an unknown flag or a missing argument fails here.
        args = PARSER.parse_command_line(shlex.split(example)[1:])
        assert callable(args.handler)


def one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_a_misspelt_command_gets_the_closest_one(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["rn", "baseline"])
    assert stop.value.code == 2
    assert "invalid choice: 'rn'" in (line := one_line_error(capsys)) and "(did you mean 'run'?)" in line


@pytest.mark.parametrize(
    "arguments, wanted",
    [
        (["run", "baseline", "--replicatons", "3"], "--replications"),
        (["sweep", "budget_split", "--seeds=3"], "--seed"),
        (["compare", "baseline", "baseline", "--no-figuers"], "--no-figures"),
    ],
)
def test_a_misspelt_option_gets_the_closest_option_of_its_command(capsys, arguments, wanted):
    with pytest.raises(SystemExit) as stop:
        main(arguments)
    assert stop.value.code == 2
    line = one_line_error(capsys)
    assert line.startswith(f"funnelsim {arguments[0]}: error: unrecognized arguments")
    assert f"(did you mean '{wanted}'?)" in line


CALIBRATION_DATA = "period,adopters\n1,5\n2,9\n3,14\n4,20\n5,22\n6,25\n7,20\n8,15\n"


@pytest.mark.parametrize(
    "arguments",
    [
        ["run", "baseline", "--out", "{out}"],
        ["validate", "baseline"],
        ["sweep", "budget_split", "--out", "{out}"],
        ["compare", "baseline", "baseline", "--out", "{out}"],
        ["elasticities", "baseline"],
        ["optimize", "baseline", "--out", "{out}"],
        ["calibrate", "{data}", "--scenario", "baseline", "--fit", "bass.q=0.1:0.9", "--out", "{out}"],
    ],
    ids=lambda arguments: arguments[0],
)
def test_a_misspelt_set_key_gets_the_closest_setting_and_nothing_runs(tmp_path, capsys, arguments):
    data = tmp_path / "sales.csv"
    data.write_text(CALIBRATION_DATA, encoding="utf-8")
    out = tmp_path / "out"
    filled = [argument.format(out=out, data=data) for argument in arguments]
    assert main([*filled, "--set", "market.consumer=300", "--quiet"]) == 2
    line = one_line_error(capsys)
    assert line.startswith(f"funnelsim {arguments[0]}: error: ")
    assert "no such setting 'market.consumer' (did you mean 'market.consumers'?)" in line
    assert not out.exists()


def test_serve_hands_its_settings_to_the_page():
    pytest.importorskip("solara")
    from funnelsim.viz import app, server

    environment = server.server_environment("baseline", overrides={"market.consumers": 300})
    scenario = app.starting_scenario(environment[server.SCENARIO_VARIABLE], environment[server.SETTINGS_VARIABLE])
    assert scenario.market.consumers == 300
    plain = server.server_environment("baseline")
    assert app.starting_scenario(plain[server.SCENARIO_VARIABLE], plain[server.SETTINGS_VARIABLE]).market.consumers != 300
