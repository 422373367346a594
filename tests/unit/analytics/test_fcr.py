"""First-contact resolution and repeat contact over N days, on hand-built contacts."""

from __future__ import annotations

import pytest

from carepath.analytics.engine import Engine
from carepath.analytics.suite import Metrics, MetricSettings, rows
from tests.unit.analytics.builders import at, by_key, contact, contacts_table

CONTACTS = [
    # a: billing on chat, billing again by phone 2 days later (a repeat), email 10 days in.
    contact("c1", "a", 0, "chat"),
    contact("c2", "a", 48, "voice"),
    contact("c3", "a", 240, "email"),
    # b: refund then billing: different intents, so no repeat.
    contact("c4", "b", 0, "chat", intent="refund"),
    contact("c5", "b", 24, "chat"),
    # f: a call with no intent (null: any contact counts) repeats the chat before it.
    contact("c6", "f", 0, "chat"),
    contact("c13", "f", 10, "voice", intent=None),
    # c: an abandoned call is not counted, though the call after it is.
    contact("c7", "c", 0, "voice", abandoned=True, wait_s=40),
    contact("c8", "c", 1, "voice"),
    # d: exactly 7 days later still counts (the window is inclusive).
    contact("c9", "d", 0, "chat", intent="x"),
    contact("c10", "d", 168, "chat", intent="x"),
    # e: two contacts at the same instant: neither follows the other.
    contact("c11", "e", 0, "chat"),
    contact("c12", "e", 0, "chat"),
]


def test_fcr_per_channel_of_the_first_contact(engine: Engine) -> None:
    # given the contacts above
    metrics = Metrics(contacts_table(engine, CONTACTS))

    # when FCR is computed per channel
    found = by_key(rows(metrics.fcr(["channel"])), "channel")

    # then, by hand:
    # chat: c1 (repeated by c2), c4 ok, c5 ok, c6 (repeated by c13, null intent), c9 (repeated
    #   by c10 at exactly 168 h), c10 ok, c11 ok, c12 ok → 5 of 8 resolved.
    assert found["chat"]["fcr_contacts"] == 8
    assert found["chat"]["fcr_resolved"] == 5
    assert found["chat"]["fcr"] == pytest.approx(5 / 8)
    assert found["chat"]["repeat_rate"] == pytest.approx(3 / 8)
    # voice: c2 (c3 is 192 h later: outside 7 days), c7 abandoned (left out), c8, c13 → 3/3.
    assert (found["voice"]["fcr_contacts"], found["voice"]["fcr_resolved"]) == (3, 3)
    assert found["voice"]["fcr"] == 1.0
    # email: c3 alone → 1/1.
    assert found["email"]["fcr"] == 1.0


def test_fcr_overall_and_by_intent(engine: Engine) -> None:
    metrics = Metrics(contacts_table(engine, CONTACTS))

    overall = rows(metrics.fcr())[0]
    by_intent = by_key(rows(metrics.fcr(["intent"])), "intent")

    # 12 contacts not abandoned; c1, c6 and c9 repeated → 9/12.
    assert (overall["fcr_contacts"], overall["fcr_resolved"]) == (12, 9)
    # billing: c1 rep, c2, c3, c5, c6 rep, c8, c11, c12 → 6/8 (c7, abandoned, left out);
    # refund: c4 → 1/1; x: c9 rep, c10 → 1/2; no intent: c13 → 1/1.
    assert by_intent["billing"]["fcr"] == pytest.approx(6 / 8)
    assert by_intent["refund"]["fcr"] == 1.0
    assert by_intent["x"]["fcr"] == 0.5
    assert (by_intent[None]["fcr_contacts"], by_intent[None]["fcr"]) == (1, 1.0)


def test_a_shorter_window_counts_fewer_repeats(engine: Engine) -> None:
    # given a 1-day window: c2 (48 h after c1) and c10 (168 h after c9) are too late
    metrics = Metrics(contacts_table(engine, CONTACTS), MetricSettings(fcr_days=1))

    overall = rows(metrics.fcr())[0]

    # then only c6 (c13 10 h later) is repeated → 11/12.
    assert overall["fcr_resolved"] == 11


def test_the_period_filters_first_contacts_not_their_follow_ups(engine: Engine) -> None:
    # given only the contacts that started in the first 12 hours are measured
    metrics = Metrics(contacts_table(engine, CONTACTS), start=at(0), end=at(12))

    found = by_key(rows(metrics.fcr(["channel"])), "channel")

    # then c1 is still repeated by c2 (outside the period): chat c1 rep, c4, c6 rep, c9 rep, c11,
    # c12 → 3/6; voice c8, c13 → 2/2 (c7 abandoned).
    assert (found["chat"]["fcr_contacts"], found["chat"]["fcr_resolved"]) == (6, 3)
    assert (found["voice"]["fcr_contacts"], found["voice"]["fcr_resolved"]) == (2, 2)
    assert "email" not in found
