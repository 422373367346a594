"""Metrics and journeys of the contacts or journeys with given values (`where`, what the
dashboard's filters use) are the rows of the same analyses grouped by those columns."""

from __future__ import annotations

import ibis.expr.types as ir
import pyarrow as pa
import pytest

from carepath.analytics.engine import Engine
from carepath.analytics.generate import generate
from carepath.analytics.journeys import Journeys
from carepath.analytics.suite import Metrics, rows

Tables = tuple[ir.Table, ir.Table]


@pytest.fixture(scope="module")
def generated(engine: Engine) -> Tables:
    found = list(generate(400, 30, 11))
    contacts = pa.concat_tables([c for c, _ in found])
    events = pa.concat_tables([e for _, e in found])
    return engine.table(contacts, "contacts"), engine.table(events, "events")


def test_a_metrics_filter_gives_the_grouped_row(generated: Tables) -> None:
    contacts, _events = generated
    grouped = {
        (r["channel"], r["segment"]): r
        for r in rows(Metrics(contacts).scorecard(["channel", "segment"]))
    }

    filtered = rows(Metrics(contacts, where={"channel": "chat", "segment": "young"}).scorecard())

    assert filtered == [
        {k: v for k, v in grouped[("chat", "young")].items() if k not in ("channel", "segment")}
    ]


def test_follow_ups_are_looked_for_outside_the_filter(generated: Tables) -> None:
    # returns start on the web and the follow-up call is on voice: a web-only filter still sees it
    contacts, _events = generated
    cells = rows(Metrics(contacts, where={"channel": "web"}).movement())
    voice = next(c for c in cells if c["to_channel"] == "voice")
    assert voice["moved"] > 0
    assert {c["from_channel"] for c in cells} == {"web"}


def test_a_journeys_filter_gives_the_grouped_rows(generated: Tables) -> None:
    contacts, events = generated
    every = Journeys(contacts, events)
    returns = Journeys(contacts, events, where={"intent": "return_item"})

    grouped = next(r for r in rows(every.breaks("intent")) if r["intent"] == "return_item")
    assert rows(returns.breaks()) == [{k: v for k, v in grouped.items() if k != "intent"}]
    assert rows(returns.variants()) == [
        {k: v for k, v in r.items() if k != "intent"}
        for r in rows(every.variants("intent"))
        if r["intent"] == "return_item"
    ]
    assert rows(returns.graph()) == [
        {k: v for k, v in r.items() if k != "intent"}
        for r in rows(every.graph("intent"))
        if r["intent"] == "return_item"
    ]
    # the Sankey follows only the kept journeys: every return starts on the web
    assert {link["source"] for link in rows(returns.sankey()) if link["step"] == 0} == {"web"}
