"""Plotly figures of the analyses (movement heat map, channel Sankey, KPI trends) as HTML
fragments or JSON, with plotly.js taken from the Python package: nothing loads from a CDN."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from carepath.analytics.schema import CHANNELS

Rows = Sequence[dict[str, Any]]


@cache
def plotly_js() -> str:
    """A <script> with all of plotly.js, inlined: put it once on a page before any fragment."""
    return f'<script type="text/javascript">{get_plotlyjs()}</script>'


def fragment(figure: go.Figure, *, div_id: str | None = None) -> str:
    """A <div> and the <script> that draws the figure into it; needs `plotly_js()` on the page."""
    html: str = pio.to_html(
        figure,
        include_plotlyjs=False,
        full_html=False,
        div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )
    return html


def page(figures: Sequence[go.Figure], title: str = "carepath analytics") -> str:
    """A whole self-contained HTML page of figures, for files and reports."""
    body = "\n".join(fragment(figure) for figure in figures)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>'
        f"{plotly_js()}</head><body>{body}</body></html>"
    )


def as_json(figure: go.Figure) -> str:
    """The figure as Plotly JSON, for `Plotly.newPlot(div, spec.data, spec.layout)`."""
    text: str = figure.to_json()
    return text


def movement_heatmap(movement: Rows, *, title: str = "Where customers went next") -> go.Figure:
    """The movement matrix (rows of `Metrics.movement()`): from-channel down, to-channel across,
    the share in each cell; channels nobody started on are left out."""
    froms = [c for c in CHANNELS if any(r["from_channel"] == c for r in movement)]
    cells = {(r["from_channel"], r["to_channel"]): r for r in movement}
    z = [[_value(cells.get((a, b)), "share") for b in CHANNELS] for a in froms]
    text = [[_cell_text(cells.get((a, b))) for b in CHANNELS] for a in froms]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=list(CHANNELS),
            y=froms,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            hovertemplate="%{y} → %{x}: %{text}<extra></extra>",
        )
    )
    figure.update_layout(
        title=title,
        xaxis_title="next contact on",
        yaxis_title="contact on",
        yaxis_autorange="reversed",
    )
    return figure


def sankey(links: Rows, *, title: str = "Channel journeys") -> go.Figure:
    """Positional channel transitions (rows of `Journeys.sankey()`): node "2. voice" is the
    second channel of a journey."""
    labels: list[str] = []
    index: dict[str, int] = {}

    def node(step: int, channel: str) -> int:
        label = f"{step + 1}. {channel}"
        if label not in index:
            index[label] = len(labels)
            labels.append(label)
        return index[label]

    sources, targets, values = [], [], []
    for link in sorted(links, key=lambda r: (r["step"], r["source"], r["target"])):
        sources.append(node(link["step"], link["source"]))
        targets.append(node(link["step"] + 1, link["target"]))
        values.append(link["journeys"])
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": labels, "pad": 12, "thickness": 14},
            link={"source": sources, "target": targets, "value": values},
        )
    )
    figure.update_layout(title=title)
    return figure


def kpi_trend(
    rows: Rows, kpi: str, *, series: str = "channel", title: str | None = None
) -> go.Figure:
    """One line per `series` value over `period` (rows of a scorecard by period and series)."""
    figure = go.Figure()
    names = sorted({str(r.get(series)) for r in rows})
    for name in names:
        points = sorted(
            (r for r in rows if str(r.get(series)) == name), key=lambda r: str(r["period"])
        )
        figure.add_trace(
            go.Scatter(
                x=[r["period"] for r in points],
                y=[r.get(kpi) for r in points],
                mode="lines+markers",
                name=name,
            )
        )
    figure.update_layout(title=title or f"{kpi} by {series}", xaxis_title="period", yaxis_title=kpi)
    return figure


def _value(row: dict[str, Any] | None, name: str) -> float | None:
    if row is None or row.get(name) is None:
        return None
    return float(row[name])


def _cell_text(row: dict[str, Any] | None) -> str:
    if row is None or row.get("share") is None:
        return ""
    return f"{row['share']:.0%} ({row['moved']}/{row['contacts']})"
