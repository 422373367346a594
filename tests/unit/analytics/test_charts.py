"""Plotly figures of the analyses, as fragments and pages that load nothing from the network."""

from __future__ import annotations

import json
import re

from carepath.analytics import charts

MOVEMENT = [
    {"from_channel": "web", "to_channel": "voice", "contacts": 4, "moved": 3, "share": 0.75},
    {"from_channel": "web", "to_channel": "web", "contacts": 4, "moved": 1, "share": 0.25},
    {"from_channel": "voice", "to_channel": "web", "contacts": 2, "moved": 0, "share": 0.0},
]
SANKEY = [
    {"step": 0, "source": "web", "target": "voice", "journeys": 3},
    {"step": 1, "source": "voice", "target": "chat", "journeys": 1},
]
TREND = [
    {"period": "2024-01-01", "channel": "chat", "fcr": 0.8},
    {"period": "2024-01-08", "channel": "chat", "fcr": 0.9},
    {"period": "2024-01-01", "channel": "voice", "fcr": 0.7},
]


def test_the_movement_heat_map() -> None:
    figure = charts.movement_heatmap(MOVEMENT)

    heatmap = figure.data[0]
    # rows in channel order (web before voice), every channel across
    assert list(heatmap.y) == ["web", "voice"]
    assert list(heatmap.x)[:2] == ["web", "app"]
    voice_column = list(heatmap.x).index("voice")
    assert heatmap.z[0][voice_column] == 0.75
    assert heatmap.text[0][voice_column] == "75% (3/4)"
    assert heatmap.z[1][voice_column] is None  # no cell: nothing measured


def test_the_sankey_of_channel_steps() -> None:
    figure = charts.sankey(SANKEY)

    sankey = figure.data[0]
    assert list(sankey.node.label) == ["1. web", "2. voice", "3. chat"]
    assert list(sankey.link.source) == [0, 1]
    assert list(sankey.link.target) == [1, 2]
    assert list(sankey.link.value) == [3, 1]


def test_a_sankey_without_links_says_so() -> None:
    # plotly.js throws "Invalid array length" on a Sankey trace without links
    figure = charts.sankey([])

    assert not [trace for trace in figure.data if trace.type == "sankey"]
    assert figure.layout.annotations[0].text == "no journey moved from one channel to another"


def test_kpi_trend_lines() -> None:
    figure = charts.kpi_trend(TREND, "fcr")

    assert [trace.name for trace in figure.data] == ["chat", "voice"]
    assert list(figure.data[0].y) == [0.8, 0.9]


def test_fragments_and_pages_work_offline() -> None:
    figure = charts.sankey(SANKEY)

    fragment = charts.fragment(figure, div_id="journeys")
    page = charts.page([figure, charts.movement_heatmap(MOVEMENT)])
    spec = json.loads(charts.as_json(figure))

    assert 'id="journeys"' in fragment
    # plotly.js is inlined; nothing is fetched (its own text mentions URLs it never loads here)
    assert "<script src" not in fragment
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", page)
    assert charts.plotly_js() in page
    assert len(charts.plotly_js()) > 1_000_000  # all of plotly.js, inlined
    assert spec["data"][0]["type"] == "sankey"
