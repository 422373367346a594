"""The figures of each dashboard page, computed with the analytics definitions (`Metrics`,
`Journeys`) on DuckDB over one read of the tenant's tables: no second implementation. Plain,
blocking functions: the pages run them in a thread."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from carepath.web.ui.dashboard_data import Filters, TenantData

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import plotly.graph_objects as go

    from carepath.analytics.engine import Engine
    from carepath.analytics.suite import Metrics

Row = dict[str, Any]
NONE = "\u2013"  # an en dash: no value (no contact to measure)


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: float | int | None
    text: str
    base: str = ""


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    json: str


@dataclass(frozen=True)
class Cell:
    text: str
    value: Any


@dataclass(frozen=True)
class Grid:
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    empty: str = "Nothing to show for these filters."


@dataclass
class Board:
    """What a page shows: KPI tiles, charts and tables, and whether any contact matched."""

    matched: int
    kpis: list[Kpi] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    grids: list[Grid] = field(default_factory=list)
    note: str = ""


# --- formatting -------------------------------------------------------------------------------


def pct(value: Any) -> str:
    return NONE if value is None else f"{float(value):.1%}"


def seconds(value: Any) -> str:
    if value is None:
        return NONE
    return f"{float(value):.0f} s" if float(value) < 120 else f"{float(value) / 60:.1f} min"


def points(value: Any) -> str:
    return NONE if value is None else f"{float(value):+.0f}"


def number(value: Any) -> str:
    return NONE if value is None else f"{float(value):.2f}"


def count(value: Any) -> str:
    return NONE if value is None else f"{int(value):,}"


def text(value: Any) -> str:
    return "(none)" if value is None else str(value)


Column = tuple[str, str, Callable[[Any], str]]


def grid(title: str, columns: Sequence[Column], found: Sequence[Row], **extra: Any) -> Grid:
    """A table of rows: each column is (key, heading, format)."""
    return Grid(
        title,
        [heading for _, heading, _ in columns],
        [[Cell(show(row.get(key)), row.get(key)) for key, _, show in columns] for row in found],
        **extra,
    )


# --- engine -----------------------------------------------------------------------------------


@contextmanager
def _tables(data: TenantData) -> Iterator[tuple[Engine, ir.Table, ir.Table]]:
    from carepath.analytics.engine import duckdb_engine

    engine = duckdb_engine()
    try:
        yield (
            engine,
            engine.table(data.contacts, "contacts"),
            engine.table(data.events, "journey_events"),
        )
    finally:
        engine.close()


def _metrics(contacts: ir.Table, filters: Filters, hours: float = 24) -> Metrics:
    from carepath.analytics.suite import Metrics, MetricSettings

    return Metrics(
        contacts,
        MetricSettings(hours=hours),
        start=filters.since,
        end=filters.until,
        where=filters.where,
    )


def _chart(chart_id: str, figure: go.Figure) -> Chart:
    from carepath.analytics.charts import as_json

    figure.update_layout(margin={"l": 60, "r": 20, "t": 50, "b": 50})
    if figure.layout.height is None:
        figure.update_layout(height=360)
    return Chart(chart_id, str(figure.layout.title.text or ""), as_json(figure))


# --- pages ------------------------------------------------------------------------------------

KPIS: tuple[tuple[str, str, Callable[[Any], str], str], ...] = (
    ("contacts", "Contacts", count, ""),
    ("digital_share", "Digital share", pct, "contacts"),
    ("fcr", "First-contact resolution (7 d)", pct, "fcr_contacts"),
    ("repeat_rate", "Repeat contact (7 d)", pct, "fcr_contacts"),
    ("containment", "Containment", pct, "assistant_contacts"),
    ("verified_containment", "Verified containment (24 h)", pct, "assistant_contacts"),
    ("service_level", "Service level (20 s)", pct, "offered"),
    ("asa_s", "ASA", seconds, "answered"),
    ("abandonment", "Abandonment", pct, "offered"),
    ("aht_s", "AHT", seconds, ""),
    ("csat", "CSAT", pct, "csat_responses"),
    ("nps", "NPS", points, "nps_responses"),
    ("ces", "CES (1 to 5)", number, "ces_responses"),
)
CHANNEL_COLUMNS: tuple[Column, ...] = (
    ("channel", "Channel", text),
    ("contacts", "Contacts", count),
    ("fcr", "FCR", pct),
    ("containment", "Containment", pct),
    ("verified_containment", "Verified", pct),
    ("service_level", "Service level", pct),
    ("asa_s", "ASA", seconds),
    ("abandonment", "Abandonment", pct),
    ("aht_s", "AHT", seconds),
    ("csat", "CSAT", pct),
    ("nps", "NPS", points),
    ("ces", "CES", number),
)


def overview(data: TenantData, filters: Filters) -> Board:
    from carepath.analytics import charts
    from carepath.analytics.suite import rows

    with _tables(data) as (_engine, contacts, _events):
        suite = _metrics(contacts, filters)
        total = rows(suite.scorecard())[0]
        by_channel = rows(suite.scorecard(["channel"]))
        digital = rows(suite.digital_share())
        fcr_trend = rows(suite.fcr(["period", "channel"]))
    board = Board(matched=int(total["contacts"]))
    for key, label, show, base in KPIS:
        basis = f"of {count(total.get(base))}" if base else ""
        board.kpis.append(Kpi(key, label, total.get(key), show(total.get(key)), basis))
    if board.matched:
        board.charts += [
            _chart(
                "channel-mix",
                charts.bars(by_channel, "channel", "contacts", title="Volume by channel"),
            ),
            _chart(
                "digital-share",
                charts.kpi_trend(
                    [{**r, "scope": "all channels"} for r in digital],
                    "digital_share",
                    series="scope",
                    title="Digital share per ISO week",
                ),
            ),
            _chart(
                "fcr-trend",
                charts.kpi_trend(fcr_trend, "fcr", title="First-contact resolution per week"),
            ),
        ]
    board.grids.append(grid("By channel", CHANNEL_COLUMNS, by_channel))
    return board


def movement(data: TenantData, filters: Filters) -> Board:
    from carepath.analytics import charts
    from carepath.analytics.suite import rows

    with _tables(data) as (_engine, contacts, _events):
        suite = _metrics(contacts, filters, filters.hours)
        cells = rows(suite.movement(handled_by=filters.handled_by))
    matched = sum(int(c["contacts"]) for c in cells if c["to_channel"] == "web")
    board = Board(matched=matched)
    if matched:
        title = f"Where customers went next, within {filters.hours:g} h"
        board.charts.append(_chart("movement", charts.movement_heatmap(cells, title=title)))
    moves = sorted(
        (c for c in cells if c["moved"] and c["from_channel"] != c["to_channel"]),
        key=lambda c: (-c["moved"], c["from_channel"], c["to_channel"]),
    )[:10]
    board.grids.append(
        grid(
            "Largest moves across channels",
            (
                ("from_channel", "From", text),
                ("to_channel", "Next on", text),
                ("contacts", "Contacts", count),
                ("moved", "Moved", count),
                ("share", "Share", pct),
            ),
            moves,
        )
    )
    return board


def fcr(data: TenantData, filters: Filters) -> Board:
    from carepath.analytics import charts
    from carepath.analytics.suite import rows

    with _tables(data) as (_engine, contacts, _events):
        suite = _metrics(contacts, filters)
        by_channel = rows(suite.fcr(["channel"]))
        by_intent = rows(suite.fcr(["intent"]))
        both = rows(suite.fcr(["intent", "channel"]))
    board = Board(matched=sum(int(r["fcr_contacts"]) for r in by_channel))
    if board.matched:
        board.charts += [
            _chart(
                "fcr-channel",
                charts.bars(by_channel, "channel", "fcr", title="FCR by channel", percent=True),
            ),
            _chart(
                "fcr-intent",
                charts.bars(by_intent, "intent", "fcr", title="FCR by intent", percent=True),
            ),
            _chart(
                "fcr-matrix",
                charts.share_matrix(
                    both,
                    row="intent",
                    column="channel",
                    value="fcr",
                    count="fcr_contacts",
                    title="FCR by intent and channel of the first contact",
                ),
            ),
        ]
    columns: tuple[Column, ...] = (
        ("fcr_contacts", "Contacts", count),
        ("fcr_resolved", "Resolved first time", count),
        ("fcr", "FCR", pct),
        ("repeat_rate", "Repeat contact", pct),
    )
    board.grids += [
        grid("By channel", (("channel", "Channel", text), *columns), by_channel),
        grid("By intent", (("intent", "Intent", text), *columns), by_intent),
    ]
    return board


def journeys(data: TenantData, filters: Filters) -> Board:
    from carepath.analytics import charts
    from carepath.analytics.journeys import Journeys
    from carepath.analytics.suite import rows

    with _tables(data) as (_engine, contacts, events):
        contacts, events = (
            _in_period(contacts, "started_at", filters),
            _in_period(events, "ts", filters),
        )
        found = Journeys(contacts, events, where=filters.journey_where)
        variants = rows(found.variants())
        graph = rows(found.graph())
        breaks = rows(found.breaks())
        points_before = rows(found.break_points())
        links = rows(found.sankey())
    summary = breaks[0] if breaks else {}
    board = Board(matched=int(summary.get("journeys") or 0))
    board.kpis += [
        Kpi("journeys", "Journeys", summary.get("journeys"), count(summary.get("journeys"))),
        Kpi(
            "digital_starts",
            "Started digital",
            summary.get("digital_starts"),
            count(summary.get("digital_starts")),
        ),
        Kpi("breaks", "Digital → voice", summary.get("breaks"), count(summary.get("breaks"))),
        Kpi(
            "break_rate",
            "Break rate",
            summary.get("break_rate"),
            pct(summary.get("break_rate")),
            "of digital starts",
        ),
    ]
    if board.matched:
        board.charts += [
            _chart(
                "sankey", charts.sankey(links, title="Channel transitions (first four channels)")
            ),
            _chart(
                "follows",
                charts.follows_graph(graph, title="Directly-follows graph (top 30 transitions)"),
            ),
        ]
    board.grids += [
        grid(
            "Top variants",
            (("rank", "#", count), ("path", "Path", text), ("journeys", "Journeys", count)),
            variants,
        ),
        grid(
            "Where digital journeys broke into a call: the touchpoint just before it",
            (("before_voice", "Before the call", text), ("breaks", "Journeys", count)),
            sorted(points_before, key=lambda r: (-r["breaks"], r["before_voice"])),
        ),
    ]
    return board


def _in_period(table: ir.Table, column: str, filters: Filters) -> ir.Table:
    from carepath.analytics.facts import between

    # `between` reads `started_at`; journey events keep their time in `ts`.
    if column == "started_at":
        return between(table, filters.since, filters.until)
    renamed = table.rename(started_at=column)
    return between(renamed, filters.since, filters.until).rename(**{column: "started_at"})


def strategy(data: TenantData, filters: Filters) -> Board:
    from carepath.analytics import charts
    from carepath.analytics.strategy import TREATMENTS
    from carepath.analytics.suite import rows

    if data.plan is None:
        return Board(matched=0, note="No strategy map is in force: apply a tenant configuration.")
    with _tables(data) as (_engine, contacts, _events):
        found = rows(_metrics(contacts, filters).compliance(data.plan))
    board = Board(matched=sum(int(r["contacts"]) for r in found))
    if board.matched:
        board.charts.append(
            _chart(
                "compliance",
                charts.share_matrix(
                    found,
                    row="intent",
                    column="channel",
                    value="compliance",
                    count="contacts",
                    title="Handled as the strategy plans, by intent and channel",
                ),
            )
        )
    board.grids.append(
        grid(
            "Plan against what contacts got",
            (
                ("intent", "Intent", text),
                ("channel", "Channel", text),
                ("planned", "Planned", text),
                ("contacts", "Contacts", count),
                *((name, name, count) for name in TREATMENTS),
                ("compliance", "As planned", pct),
            ),
            found,
        )
    )
    return board


PAGES: dict[str, Callable[[TenantData, Filters], Board]] = {
    "overview": overview,
    "movement": movement,
    "fcr": fcr,
    "journeys": journeys,
    "strategy": strategy,
}
