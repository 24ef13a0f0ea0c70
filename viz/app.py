"""The live page: one model per browser tab, its levers, its network and its charts.

Built from Mesa's SolaraViz parts: Mesa's ``ModelController`` gives the Reset, Play and Step
buttons and rebuilds the model from the lever values on Reset; Mesa's ``update_counter``
tells every chart that a step happened. The lever panel, the headline numbers and the charts
are funnelsim's own, because they know what a funnel is. A firm's levers act on the running
model at its next step (see :mod:`funnelsim.viz.live`) and the charts mark when; the market's
levers (population, network, seed) rebuild the model on Reset.

Each browser tab runs this ``Page`` in its own Solara kernel, and the model is created inside
it, so every tab has its own model and one tab's steps never move another's. Only the
network layouts are shared (see :mod:`funnelsim.viz.network_view`), since they depend on the
network alone.

Run it with ``funnelsim serve``; the scenario comes from the ``FUNNELSIM_SERVE_SCENARIO``
environment variable that the command sets.
"""

from __future__ import annotations

import functools
import json
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
from funnelsim.model.scenario import Scenario
from funnelsim.viz import charts, levers, network_view
from funnelsim.viz.live import LiveMarketModel
from funnelsim.viz.server import SCENARIO_VARIABLE, SETTINGS_VARIABLE

__all__ = ["LiveMarketModel", "Page"]

CHART_STYLE = {"style": "height: 360px; width: 100%;"}


@functools.lru_cache(maxsize=8)
def starting_scenario(source: str, settings: str = "{}") -> Scenario:
    """The scenario every tab starts from (read once per server), with the ``--set`` overrides
    of ``funnelsim serve`` (a JSON object)."""
    return load_scenario(source, json.loads(settings) or None)


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
    label = f"{lever.label}: {lever.format(value)}"
    if lever.integer:
        solara.SliderInt(
            label,
            value=int(value),
            min=int(lever.minimum),
            max=int(lever.maximum),
            step=int(lever.step),
            on_value=lambda new: on_value(lever.clamp(new)),
            thumb_label=False,
        )
    else:
        solara.SliderFloat(
            label,
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
            solara.Text("Channel mix", style={"font-size": "0.85rem", "font-weight": "500"})
            solara.Text(levers.mix_note(values), classes=["funnelsim-mix-note"], style={"font-size": "0.8rem", "color": "#607d8b"})
        if lever.name.startswith("mix_"):
            channel = lever.name.removeprefix("mix_")
            LeverSlider(
                lever,
                values[lever.name],
                lambda value, channel=channel: on_settings(settings.with_firm_values(firm, levers.rebalance_mix(values, channel, value))),
            )
            continue
        LeverSlider(
            lever,
            values[lever.name],
            lambda value, name=lever.name: on_settings(settings.with_firm_value(firm, name, value)),
        )


# --------------------------------------------------------------------------------------------
# What the page shows


@solara.component
def Headline(label: str, value: str, key: str) -> None:
    """One headline number; the CSS classes let the browser tests find it."""
    with solara.Card(margin=0, classes=["funnelsim-headline", f"funnelsim-headline-{key}"], style={"min-width": "150px"}):
        solara.Text(label, style={"font-size": "0.8rem", "color": "#607d8b"})
        solara.Div(children=[value], classes=["funnelsim-headline-value"], style={"font-size": "1.6rem", "font-weight": "500"})


@solara.component
def Headlines(model: LiveMarketModel, history: dict, firm: int) -> None:
    name = model.firm_names[firm]
    currency = model.scenario.market.currency
    last = {column: values[-1, firm] for column, values in history.items()}
    speed = model.steps_per_second()
    with solara.Row(style={"flex-wrap": "wrap", "gap": "12px", "margin-bottom": "12px"}):
        Headline(f"Step (1 step = 1 {model.scenario.market.step_unit})", f"{model.steps:,}", "step")
        Headline(f"Customers of {name}", f"{int(last['customers']):,}", "customers")
        Headline("Won by salespeople, all steps", f"{int(last['cumulative_new_customers_sales']):,}", "sales-closed")
        Headline("Market share", f"{100 * last['market_share']:.1f}%", "market-share")
        Headline(f"Cumulative profit ({currency})", f"{currency}{last['cumulative_profit']:,.0f}", "profit")
        Headline("Speed (last 5 s)", f"{speed:.1f} steps/s" if speed > 0 else "not running", "speed")


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


def consumer_details(model: MarketModel, firm: int, rows: np.ndarray) -> dict[str, np.ndarray]:
    """What hovering a drawn consumer shows (see :func:`charts.network_option`)."""
    state = model.consumers
    return {
        "awareness": state.awareness[firm, rows],
        "needs": state.in_market[rows],
        "willingness_to_pay": state.willingness_to_pay[rows],
        "ties": np.asarray(model.network.degree)[rows],
    }


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
            else f"{len(sample.rows):,} of {sample.population:,} consumers: a ball around one, "
            f"at most {network_view.PER_LEVEL} per tie of distance"
        )
        shown += f"\nstep {model.steps:,}; hover a consumer for its state"  # the step also makes every step redraw it
        return charts.network_option(
            sample.positions, sample.edges, stages[sample.rows], sample.rows, f"Network: stages for {name}", shown,
            details=consumer_details(model, firm, sample.rows), units=charts.Units.of(model.scenario), firm_name=name,
        )  # fmt: skip

    LiveChart(make_option)


@solara.component
def Dashboard(model: LiveMarketModel, firm: int) -> None:
    """Everything that changes with a step; Mesa's update counter re-renders it."""
    update_counter.get()
    history = charts.read_history(model)
    names, name = model.firm_names, model.firm_names[firm]
    units = charts.Units.of(model.scenario)
    marks = list(model.lever_marks)
    Headlines(model, history, firm)
    with solara.ColumnsResponsive(default=12, medium=6):
        NetworkChart(model, firm)
        LiveChart(lambda: charts.funnel_option(history, firm, name, units, marks))
        LiveChart(lambda: charts.market_share_option(history, names, units, marks))
        LiveChart(lambda: charts.money_option(history, names, units, marks))
        LiveChart(lambda: charts.spend_option(history, firm, name, units, marks))
        LiveChart(lambda: charts.sales_floor_option(history, names, units, marks))


def _market_of(model: LiveMarketModel) -> tuple[int | None, str, int]:
    """The market levers the running model was built with: consumers, network kind, seed
    (consumers only where the levers set them: a network file sets its own)."""
    kind = model.scenario.network.kind
    return (None if kind == "file" else model.scenario.market.consumers), kind, int(model.parameters["seed"])


def _market_of_settings(settings: levers.Settings) -> tuple[int | None, str, int]:
    return (None if settings.network == "file" else settings.consumers), settings.network, int(settings.seed)


def describe_running(model: MarketModel) -> str:
    """One line on what is running now, so it follows the network and population chosen."""
    scenario = model.scenario
    market, network = scenario.market, scenario.network
    firms = ", ".join(model.firm_names)
    return (
        f"Running: {market.consumers:,} consumers on a {levers.NETWORK_LABELS.get(network.kind, network.kind)} network; "
        f"firms {firms}. One step is one {market.step_unit}; money is in {market.currency}."
    )


def describe_scenario(starting: Scenario, model: MarketModel) -> str:
    """The scenario's own description while it still describes the model (same network kind)."""
    if not starting.description:
        return ""
    if model.scenario.network.kind == starting.network.kind:
        return starting.description
    label = levers.NETWORK_LABELS.get(starting.network.kind, starting.network.kind)
    return f"(The scenario as written, on a {label} network: {starting.description})"


#: The step order, as :meth:`funnelsim.model.market.MarketModel.step` runs it.
STEP_ORDER = (
    "Marketing: each firm's marketers spend the budget by the channel mix; reached consumers gain awareness.",
    "Word of mouth: aware consumers and customers talk to their network neighbours.",
    "Decay: awareness fades; below a floor a consumer forgets the firm.",
    (
        "Leads: leads that waited their own patience go cold; aware consumers who need the product and pass "
        "their interest threshold become leads of the firm they prefer; a few waiting leads switch to a "
        "rival they now prefer."
    ),
    "Self-serve: a few waiting leads buy without a salesperson.",
    (
        "Sales: idle salespeople take leads by the firm's policy, work them for a sales cycle, then close or "
        "lose them; with no lead waiting, they call consumers cold (prospecting)."
    ),
    "Referrals and churn: rewarded customers bring neighbours in as warm leads; some customers leave.",
    "Accounting: pay, commissions, revenue and profit are booked; the row of the run table is recorded.",
)


def about_markdown(scenario: Scenario) -> str:
    """The "About this model" text: the step order and what each lever means."""
    lines = ["**Each step** (one " + scenario.market.step_unit + ") runs, in this order:", ""]
    lines += [f"{number}. {text}" for number, text in enumerate(STEP_ORDER, start=1)]
    lines += ["", "**Firm levers** act on the running model from its next step; a dashed line on the charts marks the step.", ""]
    for lever in levers.firm_levers(scenario):
        lines.append(f"- *{lever.label}*: {levers.lever_help(lever.name)}")
    lines += ["", "**Market levers** rebuild the model on Reset:", ""]
    lines += [
        f"- *Consumers*: {levers.lever_help('consumers')}",
        f"- *Network*: {levers.lever_help('network')}",
        f"- *Random seed*: {levers.lever_help('seed')}",
        "",
        (
            "The funnel counts each consumer once per firm: *aware, not yet a lead* knows the firm but has not "
            "asked to buy; a *lead* waits for, or is with, a salesperson; a *customer* bought."
        ),
    ]
    return "\n".join(lines)


@solara.component
def LeverNotice(model: LiveMarketModel, problem: str | None, pending_market: bool) -> None:
    """Whether the levers are in force; re-rendered on every step, when queued changes apply."""
    update_counter.get()
    if problem:
        solara.Error(f"Not applied: {problem}")
    elif pending_market:
        solara.Info("Market levers changed: press Reset to rebuild the model with them.", dense=True)
    elif model.has_pending_changes:
        solara.Info("Firm levers changed: they act from the next step.", dense=True)


@solara.component
def Exports(model: LiveMarketModel, scenario_name: str) -> None:
    update_counter.get()
    solara.FileDownload(
        lambda: model.table().to_csv(index=False),
        filename=f"{scenario_name}-step-{model.steps}.csv",
        label="Download the run table (CSV)",
        mime_type="text/csv",
    )
    solara.Text("Each chart saves itself as a PNG with the ⤓ button at its top right.", style={"font-size": "0.8rem", "color": "#607d8b"})


@solara.component
def Page() -> None:
    scenario = starting_scenario(os.environ.get(SCENARIO_VARIABLE, "baseline"), os.environ.get(SETTINGS_VARIABLE, "{}"))
    settings = solara.use_reactive(solara.use_memo(lambda: levers.initial_settings(scenario), []))
    parameters = solara.use_reactive(solara.use_memo(lambda: model_parameters(scenario, settings.value), []))
    model: solara.Reactive[LiveMarketModel] = solara.use_reactive(
        solara.use_memo(lambda: LiveMarketModel(**parameters.value), [])
    )
    firm = solara.use_reactive(0)
    problem: solara.Reactive[str | None] = solara.use_reactive(None)
    play_interval = solara.use_reactive(200)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)

    def change_settings(new: levers.Settings) -> None:
        """Keep the levers; a firm lever goes to the running model, market levers wait for Reset."""
        old = settings.value
        settings.value = new
        candidate = model_parameters(scenario, new)
        try:
            built = load_scenario(scenario, candidate["overrides"])
        except ScenarioError as error:
            problem.value = str(error)
            return
        problem.value = None
        parameters.value = candidate
        running = model.value
        if _market_of(running) == _market_of_settings(new):
            for index in range(len(scenario.firms)):
                if new.firm(index) != old.firm(index):
                    running.change_firm(index, built.firms[index])
            running.parameters = candidate  # the running model now follows these levers
            update_counter.set(update_counter.value + 1)  # show the notice and marks at once

    names = [firm_settings.name for firm_settings in scenario.firms]
    pending_market = model.value.parameters != parameters.value

    solara.Title(f"funnelsim: {scenario.name}")
    solara.Style(PAGE_CSS)
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
            solara.SliderInt(f"Play interval: {play_interval.value} ms per step", value=play_interval, min=20, max=1000, step=20)
            LeverNotice(model.value, problem.value, pending_market)
            Exports(model.value, scenario.name)
        with solara.Card("Market (applies on Reset)", margin=0, style={"margin-bottom": "12px"}):
            MarketLevers(scenario, settings.value, change_settings)
        with solara.Card("Firm (acts while running)", margin=0):
            solara.Select("Firm", values=names, value=names[firm.value], on_value=lambda name: firm.set(names.index(name)))
            FirmLevers(scenario, settings.value, firm.value, change_settings)
    solara.Text(describe_running(model.value), classes=["funnelsim-description"], style={"color": "#37474f", "display": "block"})
    scenario_text = describe_scenario(scenario, model.value)
    if scenario_text:
        solara.Text(scenario_text, style={"color": "#607d8b", "display": "block", "font-size": "0.85rem"})
    with solara.Details("About this model: the step order and what each lever means"):
        solara.Markdown(about_markdown(scenario))
    Dashboard(model.value, firm.value)


#: Room at the page's foot, so nothing fixed at the bottom (Solara's own banner, when a
#: deployment turns it on) can cover the last chart.
PAGE_CSS = """
.v-main__wrap { padding-bottom: 48px; }
"""
