"""The report's charts: the analytics' own figures (movement heat map, Sankey, KPI trends) and
the assessment's (channel mix, opportunities, scenario costs, cash flow, staffing per interval)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from carepath.analytics import charts
from carepath.analytics.schema import CHANNELS
from carepath.analytics.suite import Row

COLORS = {"self_service": "#2e7d32", "assisted_digital": "#1565c0", "keep_live": "#9e9e9e"}


def _titled(figure: go.Figure, title: str, **layout: Any) -> go.Figure:
    figure.update_layout(title=title, margin={"t": 50, "l": 60, "r": 20, "b": 50}, **layout)
    return figure


def channel_mix_by_segment(mix: Sequence[Row]) -> go.Figure:
    """Stacked shares of each channel within each segment."""
    segments = sorted({str(r["segment"]) for r in mix})
    totals = {s: sum(r["contacts"] for r in mix if str(r["segment"]) == s) for s in segments}
    figure = go.Figure()
    for channel in CHANNELS:
        shares = [
            sum(r["contacts"] for r in mix if str(r["segment"]) == s and r["channel"] == channel)
            / (totals[s] or 1)
            for s in segments
        ]
        if any(shares):
            figure.add_trace(go.Bar(name=channel, x=segments, y=shares))
    return _titled(figure, "Channel mix by segment", barmode="stack", yaxis_tickformat=".0%")


def volume_trend(by_period_channel: Sequence[Row]) -> go.Figure:
    return charts.kpi_trend(by_period_channel, "contacts", title="Contacts per period by channel")


def digital_share(rows: Sequence[Row]) -> go.Figure:
    ordered = sorted(rows, key=lambda r: str(r["period"]))
    figure = go.Figure(
        go.Scatter(
            x=[r["period"] for r in ordered],
            y=[r["digital_share"] for r in ordered],
            mode="lines+markers",
        )
    )
    return _titled(figure, "Digital share per period", yaxis_tickformat=".0%", yaxis_range=[0, 1])


def opportunities(entries: Sequence[dict[str, Any]], currency: str) -> go.Figure:
    shown = list(entries)[:15][::-1]
    figure = go.Figure(
        go.Bar(
            x=[e["potential_per_month"] for e in shown],
            y=[e["intent"] for e in shown],
            orientation="h",
            marker_color=[COLORS[e["recommendation"]] for e in shown],
            text=[e["recommendation"].replace("_", " ") for e in shown],
            textposition="auto",
        )
    )
    return _titled(
        figure, f"Savings potential per month by intent ({currency})", xaxis_title=currency
    )


def scenario_costs(
    baseline: dict[str, Any], scenarios: Sequence[dict[str, Any]], currency: str
) -> go.Figure:
    names = ["today", *[s["name"] for s in scenarios]]
    plans = [baseline, *scenarios]
    channels = sorted({c for p in plans for c in p["cost_per_month"]})
    figure = go.Figure()
    for channel in channels:
        figure.add_trace(
            go.Bar(name=channel, x=names, y=[p["cost_per_month"].get(channel, 0) for p in plans])
        )
    return _titled(figure, f"Cost per month ({currency})", barmode="stack", yaxis_title=currency)


def cash_flow(scenarios: Sequence[dict[str, Any]], currency: str) -> go.Figure:
    figure = go.Figure()
    for scenario in scenarios:
        figure.add_trace(
            go.Scatter(
                x=list(range(len(scenario["cumulative"]))),
                y=scenario["cumulative"],
                mode="lines",
                name=scenario["name"],
            )
        )
    figure.add_hline(y=0, line_dash="dot")
    return _titled(
        figure,
        f"Cumulative net savings after the investment ({currency})",
        xaxis_title="month",
        yaxis_title=currency,
    )


def agents(
    baseline: dict[str, Any], scenarios: Sequence[dict[str, Any]], interval_minutes: int
) -> go.Figure:
    """Agents on duty in each interval of a week (Erlang), all channels together."""
    figure = go.Figure()
    per_day = 24 * 60 // interval_minutes
    for name, plan in [("today", baseline), *[(s["name"], s) for s in scenarios]]:
        series = [sum(values) for values in zip(*plan["agents_per_interval"].values(), strict=True)]
        figure.add_trace(
            go.Scatter(
                x=[_slot_label(i, per_day, interval_minutes) for i in range(len(series))],
                y=series,
                mode="lines",
                name=name,
            )
        )
    return _titled(figure, "Agents on duty per interval of a week", yaxis_title="agents")


def _slot_label(slot: int, per_day: int, interval_minutes: int) -> str:
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[slot // per_day]
    minutes = (slot % per_day) * interval_minutes
    return f"{day} {minutes // 60:02d}:{minutes % 60:02d}"
