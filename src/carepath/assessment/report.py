"""The assessment itself: every figure of the report computed from the intake (the summary
JSON), and that summary rendered as one self-contained HTML file."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import jinja2
from markupsafe import Markup

from carepath import __version__
from carepath.analytics import charts
from carepath.analytics.engine import duckdb_engine
from carepath.analytics.suite import MetricSettings
from carepath.assessment import figures
from carepath.assessment.costs import Assumptions
from carepath.assessment.intake import Intake
from carepath.assessment.opportunities import opportunities
from carepath.assessment.scenario_model import Scenario
from carepath.assessment.scenarios import HandleTimes, Staffer, run_scenario
from carepath.assessment.standing import journey_map, span_of, where_you_stand
from carepath.assessment.strategy_draft import draft_strategy
from carepath.assessment.workload import typical_week

Step = Callable[[str], None]


def assess(
    intake: Intake,
    assumptions: Assumptions,
    scenarios: Sequence[Scenario] = (),
    *,
    settings: MetricSettings | None = None,
    step: Step | None = None,
) -> dict[str, Any]:
    """Every figure of the report, as plain data (what `--json` writes)."""
    costs = assumptions.costs
    span = span_of(intake.contacts)
    settings = settings or MetricSettings(grain=span.grain)
    say = step or (lambda _message: None)
    engine = duckdb_engine()
    try:
        contacts = engine.table(intake.contacts, "contacts")
        say("measuring where you stand")
        standing = where_you_stand(contacts, settings)
        say("mapping journeys")
        journeys = journey_map(contacts)
        say("ranking opportunities")
        ranked = opportunities(
            standing["by_intent_channel_handler"], standing["by_intent"], costs, span.per_month
        )
        channels = [r["channel"] for r in standing["by_channel"]]
        say("staffing the scenarios")
        week = typical_week(contacts, costs.interval_minutes, costs.timezone, span.days / 7)
    finally:
        engine.close()
    handle_times = HandleTimes.from_scorecards(
        standing["by_intent_channel"], standing["by_channel"], costs.default_aht_s
    )
    staffer = Staffer(costs, handle_times)
    baseline = staffer.plan(week)
    results = [run_scenario(s, week, baseline, staffer) for s in scenarios]
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "carepath": __version__,
        "input": intake.as_dict(),
        "period": span.as_dict(),
        "settings": settings.as_dict(),
        "currency": costs.currency,
        "standing": standing,
        "journeys": journeys,
        "opportunities": ranked,
        "strategy_map_yaml": draft_strategy(ranked, channels),
        "baseline": baseline.as_dict(),
        "interval_minutes": costs.interval_minutes,
        "scenarios": results,
        "assumptions": assumptions.listed(),
    }


def as_json(summary: dict[str, Any]) -> str:
    return json.dumps(summary, indent=2, allow_nan=False, ensure_ascii=False)


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("carepath.assessment", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: Any, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


_ENV.filters["pct"] = _pct
_ENV.filters["num"] = _num


def render_html(summary: dict[str, Any]) -> str:
    """One HTML file: plotly.js inlined once, every chart drawn from the summary, no request
    leaves the page."""
    currency = summary["currency"]
    standing, journeys = summary["standing"], summary["journeys"]
    scenarios = summary["scenarios"]
    plots = {
        "mix": figures.channel_mix_by_segment(standing["mix_by_segment"]),
        "volume": figures.volume_trend(standing["by_period_channel"]),
        "digital": figures.digital_share(standing["digital_share"]),
        "fcr_channel": charts.bars(
            standing["by_channel"], "channel", "fcr", title="FCR by channel", percent=True
        ),
        "fcr_intent": charts.share_matrix(
            standing["by_intent_channel"],
            row="intent",
            column="channel",
            value="fcr",
            count="fcr_contacts",
            title="FCR by intent and channel",
        ),
        "movement": charts.movement_heatmap(standing["movement"]),
        "sankey": charts.sankey(journeys["sankey"]),
        "opportunities": figures.opportunities(summary["opportunities"], currency),
        "costs": figures.scenario_costs(summary["baseline"], scenarios, currency),
        "agents": figures.agents(summary["baseline"], scenarios, summary["interval_minutes"]),
    }
    if scenarios:
        plots["cash"] = figures.cash_flow(scenarios, currency)
    fragments = {
        name: jinja2_markup(charts.fragment(figure, div_id=f"chart-{name}"))
        for name, figure in plots.items()
    }
    template = _ENV.get_template("report.html.j2")
    return template.render(
        s=summary,
        plotly_js=jinja2_markup(charts.plotly_js()),
        charts=fragments,
    )


def jinja2_markup(html: str) -> Markup:
    # Plotly's own output (its JSON escapes "<"), trusted as markup; everything else escapes.
    return Markup(html)  # noqa: S704
