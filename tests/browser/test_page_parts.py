"""The live page's parts without a browser: levers, chart data, network sample, asset cache, command."""

from __future__ import annotations

import io
import json
import socket
import tarfile
from pathlib import Path

import numpy as np
import pytest

from funnelsim import MarketModel, ScenarioError, load_scenario
from funnelsim.cli import main as cli_main
from funnelsim.viz import assets, charts, levers, network_view

SMALL_MARKET = Path(__file__).parent / "small_market.toml"
SCENARIOS = ["baseline", "bass", str(SMALL_MARKET)]


# --------------------------------------------------------------------------------------------
# Levers


@pytest.mark.parametrize("source", SCENARIOS)
def test_scenario_values_lie_within_the_lever_bounds(source):
    scenario = load_scenario(source)
    bounds = {lever.name: lever for lever in levers.firm_levers(scenario)}
    for index, firm in enumerate(scenario.firms):
        raw = {"price": firm.price, "salespeople": firm.sales.salespeople, "budget": firm.marketing.budget_per_step}
        values = levers.firm_values(scenario, index)
        for name, value in raw.items():
            assert bounds[name].minimum <= value <= bounds[name].maximum
            assert values[name] == value  # shown exactly, not moved onto the slider grid
    assert levers.overrides(scenario, levers.initial_settings(scenario)) == {}


@pytest.mark.parametrize("source", SCENARIOS)
@pytest.mark.parametrize("end", ["minimum", "maximum"])
def test_every_lever_at_either_end_gives_a_valid_scenario(source, end):
    """Sliders cannot leave their bounds, and every position they can take must run."""
    scenario = load_scenario(source)
    settings = levers.initial_settings(scenario)
    for lever in levers.firm_levers(scenario):
        for index in range(len(scenario.firms)):
            settings = settings.with_firm_value(index, lever.name, lever.clamp(getattr(lever, end)))
    population = levers.population_lever(scenario)
    settings = settings.with_market(consumers=population.clamp(population.minimum), network="barabasi_albert")
    changes = levers.overrides(scenario, settings)
    assert changes
    built = load_scenario(scenario, changes)
    assert built.network.kind == "barabasi_albert"
    if scenario.bass is not None:
        assert built.bass is None  # moved levers leave the exact Bass limit


def test_clamp_keeps_values_in_bounds_and_on_the_grid():
    lever = levers.Lever("x", "X", 0.0, 1.0, 0.05)
    assert lever.clamp(-3) == 0.0
    assert lever.clamp(7) == 1.0
    assert lever.clamp(0.3 + 1e-12) == 0.3
    assert lever.clamp(0.33) == 0.35
    staff = levers.Lever("n", "N", 0, 30, 1, integer=True)
    assert staff.clamp(4.4) == 4 and isinstance(staff.clamp(4.4), int)
    assert levers.Lever("p", "Share", 0.0, 0.5, 0.05, unit="%").format(0.15) == "15%"


def test_channel_weights_become_shares_that_sum_to_one():
    shares = levers.normalized_mix({"mix_email": 0.2, "mix_blogging": 0.2, "mix_media": 0.0, "mix_jingles": 0.4})
    assert shares == pytest.approx({"email": 0.25, "blogging": 0.25, "media": 0.0, "jingles": 0.5})
    assert sum(shares.values()) == 1.0
    equal = levers.normalized_mix(dict.fromkeys(["mix_email", "mix_blogging", "mix_media", "mix_jingles"], 0.0))
    assert set(equal.values()) == {0.25}


def test_overrides_name_only_what_changed_and_for_the_right_firm():
    scenario = load_scenario("baseline")
    settings = levers.initial_settings(scenario).with_firm_value(1, "salespeople", 0).with_firm_value(1, "price", 1500.0)
    assert levers.overrides(scenario, settings) == {"firms.1.sales.salespeople": 0, "firms.1.price": 1500.0}


def test_network_choices_offer_a_file_only_when_the_scenario_has_one():
    scenario = load_scenario("baseline")
    labels = levers.network_choices(scenario)
    assert levers.NETWORK_LABELS["file"] not in labels
    assert [levers.network_kind(label) for label in labels][:2] == ["watts_strogatz", "barabasi_albert"]
    with pytest.raises(ValueError):
        levers.network_kind("no such network")


# --------------------------------------------------------------------------------------------
# Chart data


@pytest.fixture(scope="module")
def stepped_model():
    model = MarketModel(SMALL_MARKET, seed=3, consumer_agents=False)
    for _ in range(5):
        model.step()
    return model


def test_chart_options_hold_one_point_per_step_and_are_strict_json(stepped_model):
    history = charts.read_history(stepped_model)
    names = stepped_model.firm_names
    options = [
        charts.funnel_option(history, 0, names[0]),
        charts.market_share_option(history, names),
        charts.money_option(history, names),
        charts.spend_option(history, 1, names[1]),
        charts.sales_floor_option(history, names),
    ]
    for option in options:
        json.dumps(option, allow_nan=False)  # browsers reject NaN in JSON
        for series in option["series"]:
            assert len(series["data"]) == stepped_model.steps + 1
    stacked = [series["data"] for series in options[0]["series"] if series.get("stack") == "funnel"]
    assert len(stacked) == 4  # unaware, aware, lead, customer; rivals' customers are a line
    assert set(np.sum(stacked, axis=0)) == {stepped_model.scenario.market.consumers}


def test_chart_values_turn_nan_into_gaps():
    assert charts._values(np.array([1.23456, np.nan, np.inf]), 2) == [1.23, None, None]


def test_network_option_colours_each_drawn_consumer_by_its_stage(stepped_model):
    sample = network_view.sample_for(stepped_model)
    stages = stepped_model.stage_of(0)[sample.rows]
    option = charts.network_option(sample.positions, sample.edges, stages, sample.rows, "t")
    json.dumps(option, allow_nan=False)
    edges, *by_stage = option["series"]
    assert edges["data"].count("-") == len(sample.edges)  # one gap after every tie
    assert [series["name"] for series in by_stage] == list(charts.STAGE_LABELS)
    drawn = {int(point[2]): code for code, series in enumerate(by_stage) for point in series["data"]}
    assert drawn == dict(zip(sample.rows.tolist(), stages.tolist()))  # everyone once, in their stage colour


# --------------------------------------------------------------------------------------------
# Network sample and its layout cache


def _model(seed: int, consumers: int = 1200, kind: str = "watts_strogatz") -> MarketModel:
    overrides = {"market.consumers": consumers, "network.kind": kind}
    return MarketModel(SMALL_MARKET, seed=seed, overrides=overrides, consumer_agents=False)


def test_large_networks_are_drawn_as_a_connected_sample():
    sample = network_view.sample_for(_model(seed=5))
    assert len(sample.rows) == network_view.MAX_DRAWN < sample.population == 1200
    assert not sample.is_whole
    assert sample.edges.min() >= 0 and sample.edges.max() < len(sample.rows)
    assert np.all(np.abs(sample.positions) <= 1.0 + 1e-9)


def test_layout_is_computed_once_per_network_and_reused_across_resets():
    before = network_view.layouts_computed
    first = network_view.sample_for(_model(seed=11))
    again = network_view.sample_for(_model(seed=11))  # what Reset with the same levers builds
    assert network_view.layouts_computed == before + 1
    assert again is first
    network_view.sample_for(_model(seed=12))  # another network: a layout of its own
    assert network_view.layouts_computed == before + 2


def test_complete_networks_get_the_aggregated_view_only():
    assert not network_view.can_draw(_model(seed=1, consumers=300, kind="complete"))
    assert network_view.can_draw(_model(seed=1, consumers=300))
    option = charts.stage_bar_option([10, 20, 30, 40, 0], 100, "all")
    assert [series["data"] for series in option["series"]] == [[10], [20], [30], [40], [0]]


# --------------------------------------------------------------------------------------------
# The page's model


def test_live_model_rebuilds_from_the_lever_values():
    from funnelsim.viz.app import LiveMarketModel, model_parameters  # the page's names for them

    scenario = load_scenario(SMALL_MARKET)
    settings = levers.initial_settings(scenario).with_firm_value(0, "salespeople", 0)
    parameters = model_parameters(scenario, settings)
    model = LiveMarketModel(**parameters)
    rebuilt = type(model)(**model.parameters)  # what Mesa's Reset button does
    for _ in range(4):
        rebuilt.step()
    assert rebuilt.scenario.firms[0].sales.salespeople == 0
    assert charts.read_history(rebuilt)["cumulative_new_customers_sales"][-1, 0] == 0
    assert rebuilt.parameters == parameters


def test_mix_sliders_rescale_the_others_so_shares_sum_to_100_percent():
    values = {"mix_email": 0.25, "mix_blogging": 0.25, "mix_media": 0.25, "mix_jingles": 0.25}
    moved = levers.rebalance_mix(values, "email", 0.4)
    assert moved["mix_email"] == 0.4
    assert sum(round(100 * share) for share in moved.values()) == 100
    assert sorted(moved[key] for key in ("mix_blogging", "mix_media", "mix_jingles")) == [0.2, 0.2, 0.2]
    # Proportions of the others are kept: 3:1 stays 3:1.
    skewed = levers.rebalance_mix({"mix_email": 0.2, "mix_blogging": 0.6, "mix_media": 0.2, "mix_jingles": 0.0}, "email", 0.6)
    assert (skewed["mix_blogging"], skewed["mix_media"], skewed["mix_jingles"]) == (0.3, 0.1, 0.0)
    # From 100% on one channel, the rest is split equally among the others.
    alone = levers.rebalance_mix({"mix_email": 1.0, "mix_blogging": 0.0, "mix_media": 0.0, "mix_jingles": 0.0}, "email", 0.7)
    assert (alone["mix_blogging"], alone["mix_media"], alone["mix_jingles"]) == (0.1, 0.1, 0.1)


def test_an_all_zero_mix_is_said_out_loud():
    zero = dict.fromkeys(["mix_email", "mix_blogging", "mix_media", "mix_jingles"], 0.0)
    assert "split equally" in levers.mix_note(zero)
    assert "sum to 100%" in levers.mix_note({**zero, "mix_email": 1.0})


def _live_model(overrides: dict | None = None):
    from funnelsim.viz.app import model_parameters
    from funnelsim.viz.live import LiveMarketModel

    scenario = load_scenario(SMALL_MARKET, overrides)
    return scenario, LiveMarketModel(**model_parameters(scenario, levers.initial_settings(scenario)))


def test_firm_levers_change_the_running_model_at_its_next_step_and_are_marked():
    scenario, model = _live_model()
    for _ in range(3):
        model.step()
    settings = levers.initial_settings(scenario).with_firm_value(0, "price", 150.0).with_firm_value(0, "salespeople", 7)
    built = load_scenario(scenario, levers.overrides(scenario, settings))
    model.change_firm(0, built.firms[0])
    assert model.has_pending_changes and model.scenario.firms[0].price == 90.0  # not yet: between steps
    model.step()
    assert model.steps == 4 and not model.has_pending_changes
    assert model.scenario.firms[0].price == 150.0
    assert len(model.salespeople[0]) == 7
    assert model.scenario.firms[0].sales.salespeople == 7
    (step, text), = model.lever_marks
    assert step == 3  # rows 0-3 were made with the old levers
    assert "Acme: price ($) 90 → 150" in text and "salespeople 4 → 7" in text
    assert scenario.firms[0].price == 90.0  # the scenario every tab starts from is untouched
    for _ in range(3):
        model.step()
    busy = sum(not person.idle for person in model.salespeople[0])
    assert busy == int(model.consumers.being_worked[model.consumers.lead_of == 0].sum())


def test_letting_salespeople_go_hands_their_leads_back_to_the_queue():
    from funnelsim.viz.live import apply_firm_settings

    scenario, model = _live_model({"firms.0.sales.cycle_steps": 5})  # leads stay with them a while
    model.step()
    busy_before = np.array([person.lead for person in model.salespeople[0] if not person.idle])
    assert busy_before.size  # the small market's salespeople take leads at once
    apply_firm_settings(model, 0, load_scenario(scenario, {"firms.0.sales.salespeople": 0}).firms[0])
    assert model.salespeople[0] == [] and model.scenario.firms[0].sales.salespeople == 0
    assert not model.consumers.being_worked[busy_before].any()
    assert (model.consumers.lead_of[busy_before] == 0).all()  # still Acme's leads, waiting again
    closed = charts.read_history(model)["cumulative_new_customers_sales"][-1, 0]
    for _ in range(6):
        model.step()
    assert charts.read_history(model)["cumulative_new_customers_sales"][-1, 0] == closed  # nobody left to sell


def test_steps_per_second_counts_recent_steps_only():
    _, model = _live_model()
    model._step_times.extend([100.0, 100.5, 101.0, 101.5, 102.0])
    assert model.steps_per_second(now=102.1) == pytest.approx(2.0)
    assert model.steps_per_second(now=200.0) == 0.0  # nothing in the last 5 s: not running


def test_charts_name_every_axis_with_units_and_carry_the_lever_marks(stepped_model):
    history = charts.read_history(stepped_model)
    names = stepped_model.firm_names
    units = charts.Units("€", "week")
    marks = [(2, "Acme: price ($) 90 → 150")]
    options = [
        charts.funnel_option(history, 0, names[0], units, marks),
        charts.market_share_option(history, names, units, marks),
        charts.money_option(history, names, units, marks),
        charts.spend_option(history, 0, names[0], units, marks),
        charts.sales_floor_option(history, names, units, marks),
    ]
    for option in options:
        x_axes = option["xAxis"] if isinstance(option["xAxis"], list) else [option["xAxis"]]
        y_axes = option["yAxis"] if isinstance(option["yAxis"], list) else [option["yAxis"]]
        assert x_axes[-1]["name"] == "time (weeks)"
        assert all(axis["name"] for axis in y_axes), option["title"]
        panels = {series.get("xAxisIndex", 0) for series in option["series"]}
        marked = [series for series in option["series"] if "markLine" in series]
        assert len(marked) == len(panels)  # one mark line per panel
        assert marked[0]["markLine"]["data"] == [{"xAxis": 2, "name": marks[0][1]}]
        assert option["toolbox"]["feature"]["saveAsImage"]["name"]  # every chart saves as PNG
    money = options[2]
    assert [axis["name"] for axis in money["yAxis"]] == ["revenue (€ per week)", "cumulative profit (€)"]
    assert options[3]["yAxis"]["name"] == "spend (€ per week)"


def test_funnel_gives_customers_their_own_axis_and_names_aware_as_not_yet_a_lead(stepped_model):
    option = charts.funnel_option(charts.read_history(stepped_model), 0, "Acme")
    names = [series["name"] for series in option["series"]]
    assert "aware, not yet a lead" in names and "aware" not in names
    customers = [series for series in option["series"] if series.get("yAxisIndex") == 1]
    assert [series["name"] for series in customers] == ["customers of Acme", "customers of rivals"]
    assert option["yAxis"][1]["name"] == "customers"


def test_spend_chart_shows_every_channel_in_colours_no_firm_uses(stepped_model):
    from funnelsim.viz.palette import FIRM_COLOURS

    option = charts.spend_option(charts.read_history(stepped_model), 0, "Acme")
    names = [series["name"] for series in option["series"]]
    for channel in ("email", "blogging", "media", "jingles"):
        assert any(name.startswith(f"{channel} ($") for name in names)  # named with its total
    assert all(series["stack"] == "spend" for series in option["series"])  # none hides another
    assert not {series["color"] for series in option["series"]} & set(FIRM_COLOURS)


def test_hovering_a_consumer_has_its_state_to_show(stepped_model):
    from funnelsim.viz.app import consumer_details

    sample = network_view.sample_for(stepped_model)
    stages = stepped_model.stage_of(0)[sample.rows]
    details = consumer_details(stepped_model, 0, sample.rows)
    option = charts.network_option(sample.positions, sample.edges, stages, sample.rows, "t", details=details, firm_name="Acme")
    json.dumps(option, allow_nan=False)
    first = next(point for series in option["series"][1:] for point in series["data"])
    row = first["value"][2]
    assert first["name"].startswith(f"consumer {row}\nstage: ")
    awareness = round(100 * stepped_model.consumers.awareness[0, row])
    assert f"awareness of Acme: {awareness}%" in first["name"]
    assert option["tooltip"]["formatter"] == "{b}"


def test_a_hub_network_is_drawn_as_a_ball_not_a_star():
    import networkx as nx

    graph = nx.barabasi_albert_graph(5000, 3, seed=2)
    rows = network_view.neighbourhood(graph, 400)
    sub = graph.subgraph(rows)
    assert len(rows) == 400 and nx.is_connected(sub)
    # Breadth first from the biggest hub, 400 nodes were its own contacts: a star. Capped per
    # level, no node holds more than a small share of the drawn ties.
    assert max(degree for _, degree in sub.degree()) < 0.25 * sub.number_of_edges()
    assert nx.diameter(sub) >= 6


# --------------------------------------------------------------------------------------------
# The asset cache


def _tarball(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_unpack_drops_the_tarball_top_folder(tmp_path):
    tarball = _tarball(tmp_path / "p.tgz", {"package/dist/main.js": b"js", "package/package.json": b"{}"})
    assets._unpack(tarball, tmp_path / "out")
    assert (tmp_path / "out" / "dist" / "main.js").read_bytes() == b"js"


def test_fill_downloads_each_missing_package_once(tmp_path, monkeypatch):
    packed = []

    def fake_npm_pack(spec, destination):
        packed.append(spec)
        return _tarball(destination / "p.tgz", {"package/index.js": spec.encode()})

    monkeypatch.setattr(assets, "_npm_pack", fake_npm_pack)
    root = tmp_path / "cache"
    assert not assets.is_filled(root)
    assert assets.solara_environment(root) == {}  # users with internet keep Solara's CDN
    assets.fill(root, log=lambda _: None)
    assert assets.is_filled(root)
    assert len(packed) == len(assets.SOLARA_ASSET_PACKAGES)
    assert (root / "@widgetti" / "solara-vuetify-app@10.1.1" / "index.js").is_file()
    assert assets.fill(root, log=lambda _: None) == []  # a second fill fetches nothing
    assert assets.solara_environment(root) == {"SOLARA_ASSETS_PROXY_CACHE_DIR": str(root)}


def test_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(assets.CACHE_DIR_VARIABLE, str(tmp_path / "here"))
    assert assets.cache_dir() == tmp_path / "here"
    monkeypatch.delenv(assets.CACHE_DIR_VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert assets.cache_dir() == tmp_path / "xdg" / "funnelsim" / "solara-assets"


# --------------------------------------------------------------------------------------------
# The command line (only its refusals: starting a server is the browser tests' job)


def test_serve_refuses_a_bad_scenario_with_one_line(capsys):
    assert cli_main(["serve", "no-such-scenario"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("funnelsim serve: error:") and "no-such-scenario" in error
    assert "\n" not in error


def test_serve_refuses_a_port_out_of_range(capsys):
    assert cli_main(["serve", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_serve_refuses_a_port_in_use(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert cli_main(["serve", str(SMALL_MARKET), "--port", str(port)]) == 2
    assert f"127.0.0.1:{port} is already in use" in capsys.readouterr().err


def test_serve_refuses_an_unknown_host(capsys):
    assert cli_main(["serve", "--host", "no-such-host.invalid", "--port", "0"]) == 2
    assert "--host" in capsys.readouterr().err


def test_a_bad_lever_combination_is_a_scenario_error_not_a_crash():
    with pytest.raises(ScenarioError):
        load_scenario("bass", {"firms.0.sales.salespeople": 3})  # why the page drops the Bass checks


def test_server_sets_the_tab_title_and_turns_the_solara_banner_off():
    from funnelsim.viz import server

    environment = server.server_environment("baseline", server.page_title("baseline"))
    assert environment["SOLARA_THEME_TITLE"] == "funnelsim: baseline"
    assert environment["SOLARA_THEME_SHOW_BANNER"] == "False"
    assert server.page_title("no-such-scenario.toml") == "funnelsim"  # a title is never worth failing for


def test_a_model_whose_session_closed_stops_stepping():
    """Mesa's play loop never learns that a tab closed; the model stops itself instead."""
    import threading

    _, model = _live_model()
    model._session_closed = threading.Event()  # what Solara gives a model made inside a page
    model.step()
    assert len(model.table()) == 2 * 2 and model.running  # steps 0 and 1, two firms
    model._session_closed.set()  # the tab closed (or its session was culled)
    model.step()
    assert len(model.table()) == 2 * 2 and not model.running  # no step ran; running = False ends Mesa's loop
