"""Assistant containment, and verified containment: no contact of the customer within H hours."""

from __future__ import annotations

import pytest

from carepath.analytics.engine import Engine
from carepath.analytics.suite import Metrics, MetricSettings, rows
from tests.unit.analytics.builders import by_key, contact, contacts_table

CONTACTS = [
    # a: the assistant finished it, and nothing followed.
    contact("a1", "a", 0, "chat", handled_by="assistant"),
    # b: the assistant finished it, but the customer phoned 3 h later.
    contact("b1", "b", 0, "chat", handled_by="assistant"),
    contact("b2", "b", 3, "voice"),
    # c: the assistant handed over to an agent.
    contact("c1", "c", 0, "chat", handled_by="agent", assistant=True),
    # d: finished in the app; the customer came back 30 h later.
    contact("d1", "d", 0, "app", handled_by="assistant"),
    contact("d2", "d", 30, "chat"),
]


def test_containment_and_verified_containment(engine: Engine) -> None:
    # given the contacts above and the default 24-hour window
    metrics = Metrics(contacts_table(engine, CONTACTS))

    # when containment is computed overall and by channel
    overall = rows(metrics.containment())[0]
    found = by_key(rows(metrics.containment(["channel"])), "channel")

    # then: the assistant took part in a1, b1, c1, d1 (4); it finished a1, b1, d1 (3 → 75%);
    # of those a1 and d1 (30 h later is outside 24 h) had no contact after → 2/4 = 50%.
    assert overall["assistant_contacts"] == 4
    assert overall["contained"] == 3
    assert overall["verified_contained"] == 2
    assert overall["containment"] == pytest.approx(0.75)
    assert overall["verified_containment"] == pytest.approx(0.5)
    # chat: a1, b1, c1 → contained 2/3, verified 1/3; app: d1 → 1, 1; voice: none (null).
    assert found["chat"]["containment"] == pytest.approx(2 / 3)
    assert found["chat"]["verified_containment"] == pytest.approx(1 / 3)
    assert (found["app"]["containment"], found["app"]["verified_containment"]) == (1.0, 1.0)
    assert found["voice"]["assistant_contacts"] == 0
    assert found["voice"]["containment"] is None


def test_a_longer_window_verifies_less(engine: Engine) -> None:
    # given 48 hours: d2 (30 h after d1) now undoes d1's containment
    metrics = Metrics(contacts_table(engine, CONTACTS), MetricSettings(hours=48))

    overall = rows(metrics.containment())[0]

    # then only a1 is verified → 1/4.
    assert overall["verified_contained"] == 1
    assert overall["verified_containment"] == pytest.approx(0.25)
