"""The live page: one model per browser tab, its levers, its network and its charts.

Built from Mesa's SolaraViz parts: Mesa's ``ModelController`` gives the Reset, Play and Step
buttons and rebuilds the model from the lever values on Reset; Mesa's ``update_counter``
tells every chart that a step happened. The lever panel, the headline numbers and the charts
are funnelsim's own, because they know what a funnel is.

Each browser tab runs this ``Page`` in its own Solara kernel, and the model is created inside
it, so every tab has its own model and one tab's steps never move another's. Only the
network layouts are shared (see :mod:`funnelsim.viz.network_view`), since they depend on the
network alone.

Run it with ``funnelsim serve``; the scenario comes from the ``FUNNELSIM_SERVE_SCENARIO``
environment variable that the command sets.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import solara

with warnings.catch_warnings():
    # Solara's hook checker flags an early return in Mesa's ComponentsView, which this page
    # does not use; the warning would only puzzle a user.
    warnings.filterwarnings("ignore", message=r".*ComponentsView: `use_state` found despite early return")
    from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter
from solara.components.echarts import EchartsWidget

from funnelsim import MarketModel, ScenarioError, load_scenario
from funnelsim.model.scenario import CHANNELS, Scenario
from funnelsim.viz import charts, levers, network_view
from funnelsim.viz.server import SCENARIO_VARIABLE

CHART_STYLE = {"style": "height: 360px; width: 100%;"}


class LiveMarketModel(MarketModel):
    """A MarketModel that keeps the keywords it was built with.

    Mesa's controller rebuilds the model on Reset as ``type(model)(**parameters)``; keeping
    them lets the page tell whether the levers still match the running model.
    """

    def __init__(self, **parameters: Any):
        super().__init__(**parameters)
        self.parameters = parameters


@functools.lru_cache(maxsize=8)
def starting_scenario(source: str) -> Scenario:
    """The scenario every tab starts from (read once per server)."""
    return load_scenario(source)


def model_parameters(scenario: Scenario, settings: levers.Settings) -> dict[str, Any]:
    """Keywords for :class:`LiveMarketModel` that build what the levers say."""
    return {
        "scenario": scenario,
        "seed": int(settings.seed),
        "overrides": levers.overrides(scenario, settings),
        # Consumer agents are for inspecting single consumers; the page reads the arrays.
        "consumer_agents": False,
    }


# --------------------------------------------------------------------------------------------
# Levers


@solara.component
def LeverSlider(lever: levers.Lever, value: float, on_value) -> None:
    """A slider whose label shows its value; it cannot leave the lever's bounds."""
    slider = solara.SliderInt if lever.integer else solara.SliderFloat
    slider(
        f"{lever.label}: {lever.format(value)}",
        value=value,
        min=lever.minimum,
        max=lever.maximum,
        step=lever.step,
        on_value=lambda new: on_value(lever.clamp(new)),
        thumb_label=False,
    )


@solara.component
def MarketLevers(scenario: Scenario, settings: levers.Settings, on_settings) -> None:
    population = levers.population_lever(scenario)
    if scenario.network.kind == "file":
        solara.Text(f"Consumers: {scenario.market.consumers:,} (set by the network file)")
    else:
        LeverSlider(population, settings.consumers, lambda value: on_settings(settings.with_market(consumers=value)))
    solara.Select(
        "Network",
        values=levers.network_choices(scenario),
        value=levers.NETWORK_LABELS[settings.network],
        on_value=lambda label: on_settings(settings.with_market(network=levers.network_kind(label))),
    )
    LeverSlider(levers.SEED_LEVER, settings.seed, lambda value: on_settings(settings.with_market(seed=value)))


@solara.component
def FirmLevers(scenario: Scenario, settings: levers.Settings, firm: int, on_settings) -> None:
    values = settings.firm(firm)
    for lever in levers.firm_levers(scenario):
        if lever.name == "mix_email":
            solara.Text("Channel mix (weights, scaled to sum to 100%)", style={"font-size": "0.85rem"})
        LeverSlider(
            lever,
            values[lever.name],
            lambda value, name=lever.name: on_settings(settings.with_firm_value(firm, name, value)),
        )
        if lever.name == "mix_jingles":
            shares = levers.normalized_mix(values)
            text = ", ".join(f"{channel} {100 * shares[channel]:.0f}%" for channel in CHANNELS)
            solara.Text(f"Mix used: {text}", style={"font-size": "0.85rem"})


# --------------------------------------------------------------------------------------------
# What the page shows


@solara.component
def Headline(label: str, value: str, key: str) -> None:
    """One headline number; the CSS classes let the browser tests find it."""
    with solara.Card(margin=0, classes=["funnelsim-headline", f"funnelsim-headline-{key}"], style={"min-width": "150px"}):
        solara.Text(label, style={"font-size": "0.8rem", "color": "#607d8b"})
        solara.Div(children=[value], classes=["funnelsim-headline-value"], style={"font-size": "1.6rem", "font-weight": "500"})


@solara.component
def Headlines(model: MarketModel, history: dict, firm: int) -> None:
    name = model.firm_names[firm]
    last = {column: values[-1, firm] for column, values in history.items()}
    with solara.Row(style={"flex-wrap": "wrap", "gap": "12px", "margin-bottom": "12px"}):
        Headline("Step", f"{model.steps:,}", "step")
        Headline(f"Customers of {name}", f"{int(last['customers']):,}", "customers")
        Headline("Won by salespeople, all steps", f"{int(last['cumulative_new_customers_sales']):,}", "sales-closed")
        Headline("Market share", f"{100 * last['market_share']:.1f}%", "market-share")
        Headline("Cumulative profit", f"{last['cumulative_profit']:,.0f}", "profit")


@solara.component
def LiveChart(make_option: Callable[[], dict]) -> None:
    """An ECharts chart whose option is handed straight to its widget after every render.

    Passing the option as an element argument (as ``solara.FigureEcharts`` does) makes the
    renderer walk every number in it on every step, which cost most of a step's time here;
    the widget is created once and only its ``option`` changes.
    """
    widget = solara.use_memo(lambda: EchartsWidget(attributes=CHART_STYLE, responsive=True), [])

    def show() -> None:
        widget.option = make_option()

    solara.use_effect(show, None)  # after every render
    solara.Div(children=[widget])


@solara.component
def NetworkChart(model: MarketModel, firm: int) -> None:
    """The network sample coloured by stage, or stage counts where no drawing makes sense."""
    update_counter.get()  # re-render on every step, though the model object stays the same
    drawable = network_view.can_draw(model)
    sample = solara.use_memo(lambda: network_view.sample_for(model) if drawable else None, [model])
    stages = model.stage_of(firm)
    name = model.firm_names[firm]

    def make_option() -> dict:
        if sample is None:
            counts = np.bincount(stages, minlength=len(charts.STAGE_LABELS)).tolist()
            return charts.stage_bar_option(counts, len(stages), f"All {len(stages):,} consumers by stage for {name}")
        shown = (
            f"all {sample.population:,} consumers"
            if sample.is_whole
            else f"a neighbourhood of {len(sample.rows):,} of {sample.population:,} consumers"
        )
        shown += f", step {model.steps:,}"  # also makes every step redraw it
        return charts.network_option(
            sample.positions, sample.edges, stages[sample.rows], sample.rows, f"Network: stages for {name}", shown
        )

    LiveChart(make_option)


@solara.component
def Dashboard(model: MarketModel, firm: int) -> None:
    """Everything that changes with a step; Mesa's update counter re-renders it."""
    update_counter.get()
    history = charts.read_history(model)
    names, name = model.firm_names, model.firm_names[firm]
    Headlines(model, history, firm)
    with solara.ColumnsResponsive(default=12, medium=6):
        NetworkChart(model, firm)
        LiveChart(lambda: charts.funnel_option(history, firm, name))
        LiveChart(lambda: charts.market_share_option(history, names))
        LiveChart(lambda: charts.money_option(history, names))
        LiveChart(lambda: charts.spend_option(history, firm, name))
        LiveChart(lambda: charts.sales_floor_option(history, names))


@solara.component
def Page() -> None:
    scenario = starting_scenario(os.environ.get(SCENARIO_VARIABLE, "baseline"))
    settings = solara.use_reactive(solara.use_memo(lambda: levers.initial_settings(scenario), []))
    parameters = solara.use_reactive(solara.use_memo(lambda: model_parameters(scenario, settings.value), []))
    model = solara.use_reactive(solara.use_memo(lambda: LiveMarketModel(**parameters.value), []))
    firm = solara.use_reactive(0)
    problem = solara.use_reactive(None)
    play_interval = solara.use_reactive(200)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)

    def change_settings(new: levers.Settings) -> None:
        """Keep the levers; hand them to Reset only if they make a valid scenario."""
        settings.value = new
        candidate = model_parameters(scenario, new)
        try:
            load_scenario(scenario, candidate["overrides"])
        except ScenarioError as error:
            problem.value = str(error)
            return
        problem.value = None
        parameters.value = candidate

    names = [firm_settings.name for firm_settings in scenario.firms]
    pending = model.value.parameters != parameters.value

    solara.Title(f"funnelsim: {scenario.name}")
    with solara.AppBar():
        solara.AppBarTitle(f"funnelsim · {scenario.name}")
    with solara.Sidebar():
        with solara.Card("Run", margin=0, style={"margin-bottom": "12px"}):
            ModelController(
                model,
                model_parameters=parameters,
                play_interval=play_interval,
                render_interval=render_interval,
                use_threads=use_threads,
            )
            solara.SliderInt("Play interval (ms)", value=play_interval, min=20, max=1000, step=20, thumb_label=True)
            if problem.value:
                solara.Error(f"Not applied: {problem.value}")
            elif pending:
                solara.Info("Levers changed: press Reset to rebuild the model with them.", dense=True)
        with solara.Card("Market", margin=0, style={"margin-bottom": "12px"}):
            MarketLevers(scenario, settings.value, change_settings)
        with solara.Card("Firm", margin=0):
            solara.Select("Firm", values=names, value=names[firm.value], on_value=lambda name: firm.set(names.index(name)))
            FirmLevers(scenario, settings.value, firm.value, change_settings)
    if scenario.description:
        solara.Text(scenario.description, style={"color": "#546e7a", "margin-bottom": "8px", "display": "block"})
    Dashboard(model.value, firm.value)
