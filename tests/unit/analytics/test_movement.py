"""Cross-channel movement within H hours: the full matrix, its filters and its diagonal."""

from __future__ import annotations

import pytest

from carepath.analytics.engine import Engine
from carepath.analytics.schema import CHANNELS
from carepath.analytics.suite import Metrics, MetricSettings, rows
from tests.unit.analytics.builders import by_key, contact, contacts_table

CONTACTS = [
    # a: started a return online, phoned 5 h later, chatted 30 h after the start.
    contact("a1", "a", 0, "web", handled_by="self_service", intent="return"),
    contact("a2", "a", 5, "voice", intent="return"),
    contact("a3", "a", 30, "chat", intent="return"),
    # b: web twice, then a call exactly 24 h after the first visit.
    contact("b1", "b", 0, "web", handled_by="self_service", intent="return"),
    contact("b2", "b", 2, "web", handled_by="self_service", intent="return"),
    contact("b3", "b", 24, "voice", intent="return"),
    # c: another intent, same move.
    contact("c1", "c", 0, "web", handled_by="self_service", intent="billing"),
    contact("c2", "c", 1, "voice", intent="billing"),
    # d: a web return and nothing after.
    contact("d1", "d", 0, "web", handled_by="self_service", intent="return"),
]


def test_the_full_matrix_with_its_diagonal(engine: Engine) -> None:
    # given the contacts above
    metrics = Metrics(contacts_table(engine, CONTACTS))

    # when the 24-hour movement is computed
    found = by_key(rows(metrics.movement()), "from_channel", "to_channel")

    # then every origin has a cell for every channel
    assert {to for (origin, to) in found if origin == "web"} == set(CHANNELS)
    # web: a1, b1, b2, c1, d1 = 5 contacts. Followed by voice within 24 h: a1 (5 h), b1 (24 h,
    # inclusive), b2 (22 h), c1 (1 h) → 4/5. By web: b1 (b2, 2 h) → 1/5 (the diagonal).
    assert found[("web", "voice")] == {
        "from_channel": "web",
        "to_channel": "voice",
        "contacts": 5,
        "moved": 4,
        "share": pytest.approx(0.8),
    }
    assert found[("web", "web")]["moved"] == 1
    assert found[("web", "chat")]["moved"] == 0
    # voice: a2, b3, c2. a3's chat is 25 h after a2 → outside; nothing else follows a call.
    assert all(found[("voice", to)]["moved"] == 0 for to in CHANNELS)
    assert found[("voice", "chat")]["contacts"] == 3
    # chat: a3 alone, followed by nothing.
    assert found[("chat", "chat")]["share"] == 0.0


def test_one_cell_for_one_intent(engine: Engine) -> None:
    metrics = Metrics(contacts_table(engine, CONTACTS))

    found = by_key(rows(metrics.movement(intent="return")), "from_channel", "to_channel")

    # web returns: a1, b1, b2, d1; phoned within a day: a1, b1, b2 → 3/4.
    assert (found[("web", "voice")]["contacts"], found[("web", "voice")]["moved"]) == (4, 3)
    assert found[("web", "voice")]["share"] == pytest.approx(0.75)


def test_filters_by_handler_and_a_longer_window(engine: Engine) -> None:
    # given a 48-hour window, agent-handled contacts only
    metrics = Metrics(contacts_table(engine, CONTACTS), MetricSettings(hours=48))

    found = by_key(rows(metrics.movement(handled_by="agent")), "from_channel", "to_channel")

    # then web (self-service) is gone; voice a2 → a3 chat (25 h) now counts: 1 of 3 calls.
    assert {origin for origin, _ in found} == {"voice", "chat"}
    assert found[("voice", "chat")]["moved"] == 1
    assert found[("voice", "chat")]["share"] == pytest.approx(1 / 3)


def test_movement_by_intent_keeps_groups_apart(engine: Engine) -> None:
    metrics = Metrics(contacts_table(engine, CONTACTS))

    found = by_key(rows(metrics.movement(["intent"])), "from_channel", "intent", "to_channel")

    assert found[("web", "billing", "voice")]["share"] == 1.0
    assert found[("web", "return", "voice")]["share"] == pytest.approx(0.75)
