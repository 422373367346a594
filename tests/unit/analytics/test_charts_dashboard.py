"""The dashboard's extra figures: the directly-follows graph, bars and share matrices."""

from __future__ import annotations

from typing import Any

from carepath.analytics import charts

GRAPH = [
    {"source": "start", "target": "web page_view", "count": 10},
    {"source": "web page_view", "target": "web contact", "count": 10},
    {"source": "web contact", "target": "voice contact", "count": 4},
    {"source": "web contact", "target": "end", "count": 6},
    {"source": "voice contact", "target": "end", "count": 4},
    {"source": "start", "target": "chat contact", "count": 3},
    {"source": "chat contact", "target": "end", "count": 3},
]


def test_the_directly_follows_graph_places_activities_by_steps_from_start() -> None:
    figure = charts.follows_graph(GRAPH)

    nodes = figure.data[0]
    column = dict(zip(nodes.text, nodes.x, strict=True))
    assert column == {
        "start": 0,
        "web page_view": 1,
        "chat contact": 1,
        "web contact": 2,
        "voice contact": 3,
        "end": 4,
    }
    arrows = figure.layout.annotations
    assert len(arrows) == len(GRAPH)
    # the most frequent transition is drawn widest
    widest = max(arrows, key=lambda a: a.arrowwidth)
    assert widest.hovertext in {"start → web page_view: 10", "web page_view → web contact: 10"}


def test_the_graph_keeps_the_top_edges_only() -> None:
    figure = charts.follows_graph(GRAPH, top=2)

    assert len(figure.layout.annotations) == 2
    assert set(figure.data[0].text) == {"start", "web page_view", "web contact"}


def test_a_share_matrix_labels_each_cell_with_its_base() -> None:
    found: list[dict[str, Any]] = [
        {"intent": "returns", "channel": "web", "fcr": 0.5, "fcr_contacts": 4},
        {"intent": None, "channel": "voice", "fcr": 1.0, "fcr_contacts": 1},
    ]
    heatmap = charts.share_matrix(
        found, row="intent", column="channel", value="fcr", count="fcr_contacts", title="FCR"
    ).data[0]

    assert list(heatmap.x) == ["web", "voice"]
    assert list(heatmap.y) == ["(none)", "returns"]
    assert heatmap.text[1][0] == "50% (n=4)"
    assert heatmap.z[0][0] is None


def test_bars_as_percentages() -> None:
    figure = charts.bars(
        [{"channel": "chat", "fcr": 0.8}], "channel", "fcr", title="FCR", percent=True
    )

    assert list(figure.data[0].x) == ["chat"]
    assert figure.layout.yaxis.tickformat == ".0%"
