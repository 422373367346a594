"""Plotly figures of the analyses (movement heat map, channel Sankey, directly-follows graph, KPI
trends, bars and matrices) as HTML fragments or JSON, with plotly.js taken from the Python
package: nothing loads from a CDN."""

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

    if not links:
        # plotly.js throws on a Sankey without links ("Invalid array length"): say so instead.
        return _empty(title, "no journey moved from one channel to another")
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


def follows_graph(
    edges: Rows, *, top: int = 30, title: str = "Directly-follows graph"
) -> go.Figure:
    """The directly-follows graph (rows of `Journeys.graph()`, one group): the `top` edges by
    count, activities in columns by their fewest steps from `start` (`end` last), an arrow per
    edge, wider the more often it was taken."""
    kept = sorted(edges, key=lambda e: (-e["count"], e["source"], e["target"]))[:top]
    layer = _layers(kept)
    weight: dict[str, int] = {}
    for edge in kept:
        weight[edge["source"]] = weight.get(edge["source"], 0) + edge["count"]
        weight[edge["target"]] = weight.get(edge["target"], 0) + edge["count"]
    place: dict[str, tuple[float, float]] = {}
    for column in sorted(set(layer.values())):
        names = sorted((n for n in layer if layer[n] == column), key=lambda n: (-weight[n], n))
        for row, name in enumerate(names):
            place[name] = (float(column), (len(names) - 1) / 2 - row)
    heaviest = max((edge["count"] for edge in kept), default=1)
    arrows = [
        {
            "x": place[e["target"]][0],
            "y": place[e["target"]][1],
            "ax": place[e["source"]][0],
            "ay": place[e["source"]][1],
            "xref": "x",
            "yref": "y",
            "axref": "x",
            "ayref": "y",
            "showarrow": True,
            "arrowhead": 2,
            "arrowsize": 0.8,
            "arrowwidth": 1 + 5 * e["count"] / heaviest,
            "arrowcolor": "rgba(36, 86, 199, 0.45)",
            "standoff": 10,
            "startstandoff": 10,
            "hovertext": f"{e['source']} → {e['target']}: {e['count']}",
        }
        for e in kept
    ]
    names = list(place)
    figure = go.Figure(
        go.Scatter(
            x=[place[n][0] for n in names],
            y=[place[n][1] for n in names],
            mode="markers+text",
            text=names,
            textposition="top center",
            marker={"size": 14, "color": "#2456c7"},
            customdata=[weight[n] for n in names],
            hovertemplate="%{text}: %{customdata} transitions<extra></extra>",
        )
    )
    tallest = max((sum(1 for n in layer if layer[n] == c) for c in set(layer.values())), default=1)
    figure.update_layout(
        title=title,
        annotations=arrows,
        # room for each activity's label in the fullest column
        height=max(360, 90 + 48 * tallest),
        showlegend=False,
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return figure


def _layers(edges: Rows) -> dict[str, int]:
    """Each activity's fewest steps from `start` (breadth first); `end` after all the others,
    activities not reached from `start` (their edges fell out of the top) in column 1."""
    follows: dict[str, list[str]] = {}
    for edge in edges:
        follows.setdefault(edge["source"], []).append(edge["target"])
    layer = {"start": 0}
    frontier = ["start"]
    while frontier:
        following = []
        for source in frontier:
            for target in follows.get(source, []):
                if target not in layer:
                    layer[target] = layer[source] + 1
                    following.append(target)
        frontier = following
    for edge in edges:
        for name in (edge["source"], edge["target"]):
            layer.setdefault(name, 1)
    if "end" in layer:
        layer["end"] = max(v for k, v in layer.items() if k != "end") + 1
    return layer if edges else {}


def bars(rows: Rows, x: str, y: str, *, title: str, percent: bool = False) -> go.Figure:
    """One bar per row: `y` by `x` (a missing key shows as "(none)")."""
    figure = go.Figure(
        go.Bar(
            x=[_label(r.get(x)) for r in rows],
            y=[r.get(y) for r in rows],
            marker_color="#2456c7",
        )
    )
    figure.update_layout(title=title, xaxis_title=x, yaxis_title=y)
    if percent:
        figure.update_yaxes(tickformat=".0%", rangemode="tozero")
    return figure


def share_matrix(
    rows: Rows, *, row: str, column: str, value: str, count: str, title: str
) -> go.Figure:
    """A heat map of a share per (`row`, `column`) of rows (e.g. FCR per intent and channel), each
    cell labelled with the share and its base `count`; combinations without rows stay blank."""
    columns = [c for c in CHANNELS if any(r.get(column) == c for r in rows)] or sorted(
        {_label(r.get(column)) for r in rows}
    )
    labels = sorted({_label(r.get(row)) for r in rows})
    cells = {(_label(r.get(row)), _label(r.get(column))): r for r in rows}
    z = [[_value(cells.get((a, b)), value) for b in columns] for a in labels]
    text = [[_share_text(cells.get((a, b)), value, count) for b in columns] for a in labels]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=columns,
            y=labels,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            hovertemplate="%{y} on %{x}: %{text}<extra></extra>",
        )
    )
    figure.update_layout(title=title, xaxis_title=column, yaxis_title=row)
    return figure


def _label(value: Any) -> str:
    return "(none)" if value is None else str(value)


def _share_text(row: dict[str, Any] | None, value: str, count: str) -> str:
    if row is None or row.get(value) is None:
        return ""
    return f"{row[value]:.0%} (n={row[count]})"


def _empty(title: str, message: str) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(
        title=title,
        xaxis_visible=False,
        yaxis_visible=False,
        annotations=[{"text": message, "showarrow": False, "font": {"size": 14}}],
    )
    return figure


def _value(row: dict[str, Any] | None, name: str) -> float | None:
    if row is None or row.get(name) is None:
        return None
    return float(row[name])


def _cell_text(row: dict[str, Any] | None) -> str:
    if row is None or row.get("share") is None:
        return ""
    return f"{row['share']:.0%} ({row['moved']}/{row['contacts']})"
