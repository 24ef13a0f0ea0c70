"""What the PNG figures say: named axes with units, readable labels, the firms' colours, every channel."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib.colors as mcolors
import pandas as pd
import pytest

from funnelsim import MarketModel, load_scenario
from funnelsim.experiments import analysis_figures, figures
from funnelsim.model.labels import measure_label, parameter_label
from funnelsim.model.scenario import CHANNELS
from funnelsim.viz import charts
from funnelsim.viz.palette import CHANNEL_COLOURS, COST_COLOURS, FIRM_COLOURS, firm_colour


@pytest.fixture(scope="module")
def timeseries() -> pd.DataFrame:
    """Two replications of the baseline at a quick size, in euros and weeks."""
    scenario = load_scenario(
        "baseline", {"market.consumers": 300, "market.steps": 30, "market.currency": "€", "market.step_unit": "week"}
    )
    tables = []
    for replication in range(2):
        table = MarketModel(scenario, seed=replication).run()
        tables.append(table.assign(replication=replication))
    return pd.concat(tables, ignore_index=True)


@pytest.fixture(scope="module")
def context(timeseries):
    return figures._Context(timeseries, "baseline", "week", "€")


def _visible_axes(figure):
    return [axes for axes in figure.axes if axes.get_visible() and axes.get_label() != "<colorbar>"]


@pytest.mark.parametrize("name", list(figures.FIGURES))
def test_every_axis_is_named_and_time_axes_give_the_step_length(context, name):
    figure = figures.FIGURES[name](context)
    axes_list = _visible_axes(figure)
    assert axes_list
    for axes in axes_list:
        assert axes.get_ylabel(), (name, axes.get_title())
        assert "." not in axes.get_ylabel().replace("0.", ""), axes.get_ylabel()  # no dotted keys
    bottom = [axes for axes in axes_list if axes.get_subplotspec().is_last_row()]
    assert bottom and all(axes.get_xlabel() == "time (weeks)" for axes in bottom)


def test_money_axes_carry_the_currency(context):
    revenue = figures.revenue_profit_figure(context)
    assert [axes.get_ylabel() for axes in revenue.axes] == ["revenue (€ per week)", "profit (€)"]
    spend = figures.spend_figure(context)
    assert {axes.get_ylabel() for axes in spend.axes} == {"spend (€ per week)", "cost (€)"}


def test_funnel_names_its_stages_for_a_marketer_and_gives_customers_their_own_panel(context):
    figure = figures.funnel_figure(context)
    titles = [axes.get_title() for axes in figure.axes]
    assert "Aware, not yet a lead" in titles
    assert "Aware" not in titles
    customers = figure.axes[titles.index("Customers")]
    # Own scale: the customers' panel tops out near the most customers, not at the population.
    top = customers.get_ylim()[1]
    most = max(line.get_ydata().max() for line in customers.get_lines())
    assert 0 < most <= top <= 1.5 * most
    assert top < 300 / 4  # far below the 300 consumers the stacked chart used to show them against


def _hex(colour) -> str:
    return mcolors.to_hex(colour)


def test_firms_have_the_same_colours_in_the_figures_and_on_the_page(context, timeseries):
    figure = figures.market_share_figure(context)
    lines = [line for line in figure.axes[0].get_lines()]
    assert [_hex(line.get_color()) for line in lines] == [firm_colour(0), firm_colour(1)]
    history = {column: timeseries[timeseries["replication"] == 0][column].to_numpy().reshape(-1, 2) for column in ["market_share"]}
    option = charts.market_share_option(history, ["Loudmouth", "Closer"])
    assert [series["color"] for series in option["series"]] == [firm_colour(0), firm_colour(1)]


def test_spend_figure_shows_every_channel_and_kind_colours_are_not_firm_colours(context):
    figure = figures.spend_figure(context)
    by_channel = figure.axes[0]
    labels = [collection.get_label() for collection in by_channel.collections]
    assert [label.split(":")[0] for label in labels] == list(CHANNELS)  # stacked: none can hide another
    assert all("€" in label for label in labels)  # each with its total
    firm_colours = set(FIRM_COLOURS)
    assert not firm_colours & set(CHANNEL_COLOURS.values())
    assert not firm_colours & set(COST_COLOURS.values())
    kind_lines = figure.axes[1].get_lines()
    assert {_hex(line.get_color()) for line in kind_lines} == {COST_COLOURS["marketing_cost"], COST_COLOURS["sales_cost"]}


def test_spend_note_describes_what_is_drawn(timeseries):
    one = figures._Context(timeseries[timeseries["replication"] == 0], "x", "day")
    note = figures.spend_figure(one)._supxlabel.get_text()
    assert note == "1 replication"
    two = figures._Context(timeseries, "x", "day")
    note = figures.spend_figure(two)._supxlabel.get_text()
    assert "stacked" in note and "band" in note  # the left panel is stacked, the right one has bands


def test_labels_are_readable_with_units():
    scenario = load_scenario("baseline", {"market.currency": "€"})
    assert parameter_label("firms.0.price", scenario) == "Loudmouth: price (€)"
    assert parameter_label("firms.1.marketing.budget_per_step", scenario) == "Closer: marketing budget (€ per day)"
    assert parameter_label("market.in_market_share") == "share of consumers who need the product (share, 0-1)"
    assert measure_label("Loudmouth.customers", scenario) == "Loudmouth: customers at the end"
    assert measure_label("Closer.profit", scenario) == "Closer: profit, whole run (€)"
    # A key without an entry still reads as words, not as a dotted key.
    assert parameter_label("firms.1.marketing.jingles.lift", scenario) == "Closer: jingle awareness lift"
    assert "." not in parameter_label("firms.0.marketing.email.unsubscribe_rate", scenario)


def _fake_results(kind: str, runs: pd.DataFrame, parameters: list[str]):
    manifest = {"design": {"kind": kind}, "parameters": parameters, "base_scenario": load_scenario("baseline").to_dict()}
    return SimpleNamespace(manifest=manifest, parameters=parameters, ok_runs=runs)


def _grid_runs():
    rows = [
        {"firms.0.price": price, "firms.0.marketing.budget_per_step": budget, "Loudmouth.profit": price - budget + r}
        for price in (80, 120) for budget in (100, 500) for r in range(2)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_analysis_file_names_name_the_output_so_two_outputs_do_not_overwrite(tmp_path):
    runs = _grid_runs().assign(**{"Closer.profit": 1.0})
    results = _fake_results("grid", runs, ["firms.0.price", "firms.0.marketing.budget_per_step"])
    first = analysis_figures.draw_figures(SimpleNamespace(results=results, output="Loudmouth.profit", indices=None, heatmap_pair=None, notes=[]), tmp_path)
    second = analysis_figures.draw_figures(SimpleNamespace(results=results, output="Closer.profit", indices=None, heatmap_pair=None, notes=[]), tmp_path)
    assert {path.name for path in first} == {"main_effects_Loudmouth.profit.png", "heatmap_Loudmouth.profit.png"}
    assert not {path.name for path in first} & {path.name for path in second}
    assert all(path.is_file() for path in first + second)


def test_heat_map_only_for_a_grid_design(tmp_path):
    runs = _grid_runs()
    results = _fake_results("sobol", runs, ["firms.0.price", "firms.0.marketing.budget_per_step"])
    report = SimpleNamespace(results=results, output="Loudmouth.profit", indices=None,
                             heatmap_pair=("firms.0.price", "firms.0.marketing.budget_per_step"), notes=[])  # fmt: skip
    written = analysis_figures.draw_figures(report, tmp_path)
    assert [path.name for path in written] == ["main_effects_Loudmouth.profit.png"]
    assert any("no heat map" in note for note in report.notes)


def test_heat_map_of_a_larger_grid_says_what_it_averages_over():
    runs = pd.concat([_grid_runs().assign(**{"market.churn_rate": value}) for value in (0.0, 0.01)], ignore_index=True)
    results = _fake_results("grid", runs, ["firms.0.price", "firms.0.marketing.budget_per_step", "market.churn_rate"])
    figure = analysis_figures.heatmap_figure(results, "Loudmouth.profit", "firms.0.price", "firms.0.marketing.budget_per_step")
    title = figure.axes[0].get_title().replace("\n", " ")
    assert "churn chance" in title and "every grid value" in title
    assert figure.axes[0].get_xlabel() == "Loudmouth: marketing budget (€ per day)".replace("€", "$")


def test_sobol_title_fits_with_three_parameters(tmp_path):
    table = pd.DataFrame({
        "parameter": ["firms.0.price", "firms.0.marketing.budget_per_step", "market.in_market_share"],
        "S1": [0.5, 0.3, 0.1], "S1_conf": [0.05] * 3, "ST": [0.55, 0.35, 0.1], "ST_conf": [0.05] * 3,
    })  # fmt: skip
    results = _fake_results("sobol", pd.DataFrame(), list(table["parameter"]))
    figure = analysis_figures.sobol_figure(table, "Loudmouth.customers", results)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)
    title = figure.axes[0].title.get_window_extent(renderer)
    page = figure.bbox
    assert page.x0 <= title.x0 and title.x1 <= page.x1


def _schema_keys(section: type, prefix: str = "") -> list[str]:
    """Every settable dotted key of a schema class, a firm's index written as ``*``."""
    import typing

    from pydantic import BaseModel

    keys = []
    for name, field in section.model_fields.items():
        annotation = field.annotation
        is_list = typing.get_origin(annotation) is list
        inner = [annotation, *typing.get_args(annotation)]  # a section, or one in `X | None` or `list[X]`
        sections = [kind for kind in inner if isinstance(kind, type) and issubclass(kind, BaseModel)]
        listed = sections if is_list else []
        nested = [] if is_list else sections
        if listed:
            keys += _schema_keys(listed[0], f"{prefix}{name}.*.")
        elif nested:
            keys += _schema_keys(nested[0], f"{prefix}{name}.")
        else:
            keys.append(prefix + name)
    return keys


def test_every_setting_and_every_summary_measure_has_a_written_label():
    # The fallback makes a name from the key's parts; figures and the page read better with a
    # written label and its unit, so a new setting or measure gets one where it is defined.
    from funnelsim.model.labels import MEASURE_LABELS, PARAMETER_LABELS
    from funnelsim.model.metrics import summarize
    from funnelsim.model.scenario import Scenario

    keys = _schema_keys(Scenario)
    assert "firms.*.sales.prospect_response" in keys and "seeding.share" in keys and "bass.q" in keys  # the walk reaches them
    assert [key for key in keys if key not in PARAMETER_LABELS] == []
    summary = summarize(MarketModel(load_scenario("baseline", {"market.consumers": 200}), seed=1).run(3))
    unlabelled = [name for name in summary.columns if name not in MEASURE_LABELS and name != "firm" and "_touch_" not in name]
    assert unlabelled == []
    assert measure_label("Acme.mean_queue_wait") == "Acme: mean time in the lead queue (days)"
