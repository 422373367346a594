"""The supervisor dashboard through HTTP, as a browser uses it: every page shows what the metric
suite computes over the tenant's operational database for the same filters; agents get 403,
other tenants see nothing of it, an empty tenant gets a "no data yet" page."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from plotly.offline import get_plotlyjs

from carepath.actions.cases import CaseChanges, do_update_case
from carepath.actions.ingest import do_ingest_inbound
from carepath.actions.tenant_config import do_apply_tenant_config
from carepath.analytics.engine import duckdb_engine
from carepath.analytics.export import read_all
from carepath.analytics.journeys import Journeys
from carepath.analytics.schema import CHANNELS, CONTACTS, HANDLERS, JOURNEY_EVENTS
from carepath.analytics.strategy import plan_from_config
from carepath.analytics.suite import Metrics, MetricSettings, rows
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.storage import Database
from carepath.tenant_config import parse_tenant_config
from carepath.types import Role
from carepath.web.ui import dashboard_data
from carepath.web.ui.dashboard import DASHBOARD_PAGES
from tests.analytics_history import load_generated
from tests.api.ui_session import Browser, log_in
from tests.factories import Company, make_company, make_user, system
from tests.inbound import inbound

PREFIX = "/app/supervisor/dashboard"
STRATEGY = """\
channels: [chat, app, email, sms, whatsapp, messenger, voice, web]
skills: [general]
intents:
  - {name: order_status, description: "Where is my order"}
  - {name: return_item, description: "Return an item"}
strategy:
  defaults: {treatment: assisted, skill: general}
  channel_defaults:
    voice: {treatment: live}
    web: {treatment: self_serve}
  intents:
    order_status: {treatment: self_serve}
"""
_KPI = re.compile(r'data-kpi="([a-z_]+)" data-value="([^"]*)"')
_FIGURE = re.compile(r'id="chart-([a-z-]+)" data-figure="([^"]*)"')


@pytest.fixture
async def history(db: Database, company: Company) -> None:
    await do_apply_tenant_config(db, system(company.tenant), STRATEGY)
    await load_generated(db, company.tenant.id)


async def _engine_tables(db: Database, company: Company) -> tuple[Any, Any, Any]:
    """The same tables the CLI reads without --input, on a DuckDB of the test's own."""
    engine = duckdb_engine()
    contacts = engine.table(await read_all(db, CONTACTS, company.tenant.id), "contacts")
    events = engine.table(await read_all(db, JOURNEY_EVENTS, company.tenant.id), "events")
    return engine, contacts, events


def _kpis(page: str) -> dict[str, float | None]:
    return {key: float(value) if value else None for key, value in _KPI.findall(page)}


def _figures(page: str) -> dict[str, dict[str, Any]]:
    return {name: json.loads(html.unescape(spec)) for name, spec in _FIGURE.findall(page)}


def _table(page: str, title: str) -> list[list[str]]:
    """The data-value cells of the table under the heading `title`."""
    start = page.index(f"<h2>{html.escape(title)}</h2>")
    body = page[start : page.index("</table>", start)]
    return [
        re.findall(r'<td data-value="([^"]*)"', row)
        for row in body.split("<tr>")[2:]
        if "<td" in row
    ]


def _same(shown: float | None, computed: Any) -> bool:
    if computed is None:
        return shown is None
    return shown == pytest.approx(float(computed), rel=1e-12)


@pytest.mark.usefixtures("history")
async def test_the_overview_shows_the_suite_scorecard_for_each_filter(
    supervisor: Browser, db: Database, company: Company
) -> None:
    engine, contacts, _events = await _engine_tables(db, company)
    last = utcnow().date() - timedelta(days=3)
    first = last - timedelta(days=13)
    suite = Metrics(contacts)
    by_both = {(r["channel"], r["intent"]): r for r in rows(suite.scorecard(["channel", "intent"]))}
    cases: list[tuple[dict[str, str], dict[str, Any]]] = [
        ({}, rows(suite.scorecard())[0]),
        ({"channel": "chat", "intent": "order_status"}, by_both[("chat", "order_status")]),
        (
            {"from": first.isoformat(), "to": last.isoformat()},
            rows(
                Metrics(contacts, start=_day(first), end=_day(last + timedelta(days=1))).scorecard()
            )[0],
        ),
    ]
    for query, expected in cases:
        # when the overview is opened with these filters
        page = await supervisor.http.get(PREFIX, params=query)

        # then every KPI tile holds the suite's figure
        assert page.status_code == 200, page.text
        shown = _kpis(page.text)
        assert len(shown) == 13
        assert expected["contacts"] > 0
        for key, value in shown.items():
            assert _same(value, expected[key]), (query, key, value, expected[key])
    # and the channel mix is the volume by channel
    mix = _figures(page.text)["channel-mix"]["data"][0]
    by_channel = {
        r["channel"]: r["contacts"]
        for r in rows(
            Metrics(contacts, start=_day(first), end=_day(last + timedelta(days=1))).volume(
                ["channel"]
            )
        )
    }
    assert dict(zip(mix["x"], mix["y"], strict=True)) == by_channel
    engine.close()


@pytest.mark.usefixtures("history")
async def test_movement_fcr_journeys_and_compliance_pages_show_the_suite_results(
    supervisor: Browser, db: Database, company: Company
) -> None:
    engine, contacts, events = await _engine_tables(db, company)

    # movement of return_item contacts within 24 h: the heat map's cells are the suite's
    page = await supervisor.http.get(f"{PREFIX}/movement", params={"intent": "return_item"})
    assert page.status_code == 200, page.text
    heatmap = _figures(page.text)["movement"]["data"][0]
    cells = rows(Metrics(contacts, MetricSettings(hours=24)).movement(intent="return_item"))
    for cell in cells:
        if cell["from_channel"] in heatmap["y"]:
            row = heatmap["y"].index(cell["from_channel"])
            column = heatmap["x"].index(cell["to_channel"])
            assert _same(heatmap["z"][row][column], cell["share"])
    # returns start on the web; some then phone (those calls are return_item contacts too)
    assert heatmap["y"] == ["web", "voice"]
    web_voice = next(c for c in cells if (c["from_channel"], c["to_channel"]) == ("web", "voice"))
    assert web_voice["moved"] > 0

    # FCR by channel: the table's rows are the suite's
    page = await supervisor.http.get(f"{PREFIX}/fcr")
    assert page.status_code == 200
    expected = rows(Metrics(contacts).fcr(["channel"]))
    shown = _table(page.text, "By channel")
    assert [r[0] for r in shown] == [r["channel"] for r in expected]
    assert all(_same(float(s[3]), e["fcr"]) for s, e in zip(shown, expected, strict=True))
    assert set(_figures(page.text)) == {"fcr-channel", "fcr-intent", "fcr-matrix"}

    # journeys that start on the web: breaks and variants are the suite's
    page = await supervisor.http.get(f"{PREFIX}/journeys", params={"channel": "web"})
    assert page.status_code == 200
    analysis = Journeys(contacts, events, where={"first_channel": "web"})
    breaks = rows(analysis.breaks())[0]
    kpis = _kpis(page.text)
    assert kpis["journeys"] == breaks["journeys"]
    assert kpis["breaks"] == breaks["breaks"] > 0
    variants = rows(analysis.variants())
    assert [r[1] for r in _table(page.text, "Top variants")] == [v["path"] for v in variants]
    figures = _figures(page.text)
    assert figures["sankey"]["data"][0]["type"] == "sankey"
    assert figures["follows"]["layout"]["annotations"]  # the graph's arrows

    # compliance per intent and channel against the strategy map in force
    page = await supervisor.http.get(f"{PREFIX}/strategy", params={"segment": "consumer"})
    assert page.status_code == 200
    plan = plan_from_config(parse_tenant_config(STRATEGY))
    found = rows(Metrics(contacts, where={"segment": "consumer"}).compliance(plan))
    shown = _table(page.text, "Plan against what contacts got")
    assert len(shown) == len(found) > 0
    assert all(
        [s[0], s[1], s[2]] == [e["intent"] or "", e["channel"], e["planned"]]
        and _same(float(s[-1]), e["compliance"])
        for s, e in zip(shown, found, strict=True)
    )
    engine.close()


async def test_pages_show_contacts_made_through_the_actions(
    supervisor: Browser, db: Database, company: Company
) -> None:
    # given a chat about a refund and an SMS, from two customers, through the actions
    chat = await do_ingest_inbound(db, inbound(company.tenant.id, Channel.CHAT, "visitor-7"))
    await do_update_case(db, system(company.tenant), chat.case.id, CaseChanges(intent="refund"))
    await do_ingest_inbound(db, inbound(company.tenant.id, Channel.SMS, "+16505550100"))

    # when the supervisor opens each page
    pages = {path: await supervisor.get(path) for path in DASHBOARD_PAGES}

    # then all render, and the overview counts the two contacts on their channels
    assert {path: page.status_code for path, page in pages.items()} == dict.fromkeys(
        DASHBOARD_PAGES, 200
    )
    overview = pages[PREFIX].text
    assert _kpis(overview)["contacts"] == 2
    assert _kpis(overview)["digital_share"] == 1.0
    mix = _figures(overview)["channel-mix"]["data"][0]
    assert dict(zip(mix["x"], mix["y"], strict=True)) == {"chat": 1, "sms": 1}
    assert "<option selected>refund</option>" not in overview
    assert "<option>refund</option>" in overview  # the intents present are offered as filters


async def test_an_empty_tenant_gets_a_no_data_page(supervisor: Browser) -> None:
    for path in DASHBOARD_PAGES:
        page = await supervisor.get(path)
        assert page.status_code == 200, path
        assert 'data-state="no-data"' in page.text
        assert "No data yet" in page.text


@pytest.mark.usefixtures("history")
async def test_agents_are_refused_and_other_tenants_see_nothing(
    app: FastAPI, db: Database, supervisor: Browser, company: Company
) -> None:
    agent = await log_in(app, company, await make_user(db, company.tenant, Role.AGENT))
    other = await make_company(db)
    outsider = await log_in(app, other, await make_user(db, other.tenant, Role.SUPERVISOR))
    try:
        assert (await supervisor.get(PREFIX)).status_code == 200
        for path in DASHBOARD_PAGES:
            refused = await agent.get(path)
            assert refused.status_code == 403, path
            assert "data-kpi" not in refused.text
            theirs = await outsider.get(path)
            assert theirs.status_code == 200
            assert 'data-state="no-data"' in theirs.text
    finally:
        await agent.http.aclose()
        await outsider.http.aclose()


@pytest.mark.usefixtures("history")
async def test_filters_that_match_nothing_and_bad_filters(supervisor: Browser) -> None:
    empty = await supervisor.get(f"{PREFIX}?intent=no_such_intent")
    assert empty.status_code == 200
    assert 'data-state="no-match"' in empty.text
    assert 'data-kpi="contacts" data-value="0"' in empty.text

    for query, message in [
        ("channel=fax", "channel: use one of"),
        ("from=2024-13-01", "from: expected a date"),
        ("from=2024-02-01&to=2024-01-01", "the period ends before it starts"),
    ]:
        page = await supervisor.get(f"{PREFIX}?{query}")
        assert page.status_code == 422, query
        assert message in html.unescape(page.text)
    bad_hours = await supervisor.get(f"{PREFIX}/movement?hours=0")
    assert bad_hours.status_code == 422


@pytest.mark.usefixtures("history")
async def test_figures_are_computed_once_per_filters_while_fresh(
    app: FastAPI, supervisor: Browser
) -> None:
    first = await supervisor.get(f"{PREFIX}/fcr")
    computed = dashboard_cache_of(app).computed
    again = await supervisor.get(f"{PREFIX}/fcr")
    assert dashboard_cache_of(app).computed == computed
    assert _table(again.text, "By channel") == _table(first.text, "By channel")
    await supervisor.get(f"{PREFIX}/fcr?channel=voice")
    assert dashboard_cache_of(app).computed == computed + 1


async def test_plotly_is_served_from_the_installed_package_with_an_etag(
    supervisor: Browser,
) -> None:
    response = await supervisor.get("/app/static/plotly.min.js")
    assert response.status_code == 200
    assert response.text == get_plotlyjs()
    etag = response.headers["etag"]
    cached = await supervisor.http.get("/app/static/plotly.min.js", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    script = await supervisor.get("/app/static/dashboard.js")
    assert "Plotly.newPlot" in script.text


def test_the_dashboard_knows_the_interchange_channels_and_handlers() -> None:
    assert dashboard_data.CHANNELS == CHANNELS
    assert dashboard_data.HANDLERS == HANDLERS


def dashboard_cache_of(app: FastAPI) -> Any:
    return app.state.dashboard_cache


def _day(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)
