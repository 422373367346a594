"""Journeys: touchpoints merged per customer, variants, the directly-follows graph, break points
and channel transitions."""

from __future__ import annotations

import pytest

from carepath.analytics.engine import Engine
from carepath.analytics.journeys import Journeys, JourneySettings
from carepath.analytics.suite import rows
from carepath.errors import InvalidInput
from tests.unit.analytics.builders import by_key, contact, contacts_table, event, events_table

CONTACTS = [
    # a: two page views, a web return, a call (journey a1); a chat 5 days later (a2).
    contact("a1", "a", 0, "web", handled_by="self_service", intent="return", segment="young"),
    contact("a2", "a", 2, "voice", intent="return", segment="young"),
    contact("a3", "a", 120, "chat", intent="billing", segment="young"),
    # b: two chats an hour apart fold into one touchpoint.
    contact("b1", "b", 0, "chat"),
    contact("b2", "b", 1, "chat"),
    # c: an app step, then a call.
    contact("c1", "c", 1, "voice"),
    # d: a call, then a page view: starts on voice, so no break.
    contact("d1", "d", 0, "voice"),
]
EVENTS = [
    event("a", -0.2, "web", "page_view"),
    event("a", -0.1, "web", "page_view"),
    event("c", 0, "app", "app_step"),
    event("d", 1, "web", "page_view"),
]


@pytest.fixture
def journeys(engine: Engine) -> Journeys:
    return Journeys(contacts_table(engine, CONTACTS), events_table(engine, EVENTS))


def test_variants_are_counted_and_ranked(journeys: Journeys) -> None:
    found = rows(journeys.variants())

    # five journeys: a1, a2, b1, c1, d1; ties are ranked by path.
    assert found == [
        {"path": "chat contact", "journeys": 2, "rank": 1},
        {"path": "app app_step → voice contact", "journeys": 1, "rank": 2},
        {"path": "voice contact → web page_view", "journeys": 1, "rank": 3},
        {"path": "web page_view → web contact → voice contact", "journeys": 1, "rank": 4},
    ]


def test_the_directly_follows_graph(journeys: Journeys) -> None:
    found = {(r["source"], r["target"]): r["count"] for r in rows(journeys.graph())}

    assert found == {
        ("start", "web page_view"): 1,
        ("start", "chat contact"): 2,
        ("start", "app app_step"): 1,
        ("start", "voice contact"): 1,
        ("web page_view", "web contact"): 1,
        ("web contact", "voice contact"): 1,
        ("app app_step", "voice contact"): 1,
        ("voice contact", "web page_view"): 1,
        ("voice contact", "end"): 2,
        ("chat contact", "end"): 2,
        ("web page_view", "end"): 1,
    }


def test_break_points(journeys: Journeys) -> None:
    breaks = rows(journeys.breaks())[0]
    points = by_key(rows(journeys.break_points()), "before_voice")

    # digital starts: a1 (web), a2 (chat), b1 (chat), c1 (app); of those a1 and c1 reach a call.
    assert breaks == {"journeys": 5, "digital_starts": 4, "breaks": 2, "break_rate": 0.5}
    assert points["web contact"]["breaks"] == 1
    assert points["app app_step"]["breaks"] == 1


def test_grouped_by_intent_and_segment(journeys: Journeys) -> None:
    by_intent = by_key(rows(journeys.breaks("intent")), "intent")
    by_segment = by_key(rows(journeys.variants("segment")), "segment", "path")

    # a journey's intent is that of its first contact with one: a1 return, a2 billing, the rest
    # billing (the builder's default).
    assert by_intent["return"]["break_rate"] == 1.0
    assert (by_intent["billing"]["digital_starts"], by_intent["billing"]["breaks"]) == (3, 1)
    assert by_segment[("young", "chat contact")]["journeys"] == 1
    assert by_segment[("consumer", "chat contact")]["journeys"] == 1


def test_channel_transitions_for_the_sankey(journeys: Journeys) -> None:
    found = rows(journeys.sankey())

    # a1: web (page views and the web contact fold into one web step) → voice; c1: app → voice;
    # d1: voice → web.
    assert found == [
        {"step": 0, "source": "app", "target": "voice", "journeys": 1},
        {"step": 0, "source": "voice", "target": "web", "journeys": 1},
        {"step": 0, "source": "web", "target": "voice", "journeys": 1},
    ]


def test_contacts_alone_make_journeys_too(engine: Engine) -> None:
    found = rows(Journeys(contacts_table(engine, CONTACTS)).variants())

    assert found[0] == {"path": "chat contact", "journeys": 2, "rank": 1}
    assert found[1:] == [
        {"path": "voice contact", "journeys": 2, "rank": 2},
        {"path": "web contact → voice contact", "journeys": 1, "rank": 3},
    ]


def test_a_shorter_gap_cuts_journeys(engine: Engine) -> None:
    # given a 1-hour gap: a1 → a2 (2 h) now are two journeys
    journeys = Journeys(contacts_table(engine, CONTACTS), settings=JourneySettings(gap_hours=1))

    found = rows(journeys.breaks())[0]

    # a: three journeys; b1 and b2 (1 h apart, not more), c and d: one each → 6.
    assert found["journeys"] == 6


def test_bad_settings_are_refused() -> None:
    with pytest.raises(InvalidInput):
        JourneySettings(gap_hours=0)
