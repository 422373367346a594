"""Offered, AHT, ASA, service level (with and without short abandons) and abandonment."""

from __future__ import annotations

import pytest

from carepath.analytics.engine import Engine
from carepath.analytics.suite import Metrics, MetricSettings, rows
from tests.unit.analytics.builders import by_key, contact, contacts_table

CONTACTS = [
    contact("v1", "a", 0, "voice", wait_s=10, handle_s=100),
    contact("v2", "b", 0, "voice", wait_s=20, handle_s=200),
    contact("v3", "c", 0, "voice", wait_s=30, handle_s=300),
    contact("v4", "d", 0, "voice", wait_s=5, abandoned=True),
    contact("v5", "e", 0, "voice", wait_s=40, abandoned=True),
    # finished in the phone menu: never queued, not offered
    contact("v6", "f", 0, "voice", handled_by="self_service"),
    # a chat with no queue figures at all
    contact("h1", "g", 0, "chat", handled_by="assistant"),
]


def test_queue_figures(engine: Engine) -> None:
    # given five calls that queued (v1-v5), two of them abandoned, and one that never queued
    metrics = Metrics(contacts_table(engine, CONTACTS))

    # when the service figures are computed per channel (threshold 20 s)
    voice = by_key(rows(metrics.service(["channel"])), "channel")["voice"]

    # then by hand:
    assert (voice["offered"], voice["answered"], voice["abandoned"]) == (5, 3, 2)
    # AHT: agent-handled with a handle time: (100 + 200 + 300) / 3
    assert voice["aht_s"] == pytest.approx(200.0)
    # ASA: answered waits (10 + 20 + 30) / 3
    assert voice["asa_s"] == pytest.approx(20.0)
    # SL: answered within 20 s (v1, v2: 20 s counts) over offered → 2/5
    assert voice["service_level"] == pytest.approx(0.4)
    # abandonment: 2/5
    assert voice["abandonment"] == pytest.approx(0.4)


def test_service_level_without_short_abandons(engine: Engine) -> None:
    # given abandons shorter than the threshold left out (v4 waited 5 s)
    settings = MetricSettings(exclude_short_abandons=True)
    metrics = Metrics(contacts_table(engine, CONTACTS), settings)

    voice = by_key(rows(metrics.service(["channel"])), "channel")["voice"]

    # then 2 of 4; abandonment is still over everything offered.
    assert voice["service_level"] == pytest.approx(0.5)
    assert voice["abandonment"] == pytest.approx(0.4)


def test_a_different_threshold(engine: Engine) -> None:
    metrics = Metrics(contacts_table(engine, CONTACTS), MetricSettings(service_level_s=30))

    voice = by_key(rows(metrics.service(["channel"])), "channel")["voice"]

    # within 30 s: v1, v2, v3 → 3/5
    assert voice["service_level"] == pytest.approx(0.6)


def test_a_channel_with_no_queue_has_no_figures(engine: Engine) -> None:
    metrics = Metrics(contacts_table(engine, CONTACTS))

    chat = by_key(rows(metrics.service(["channel"])), "channel")["chat"]

    assert chat["offered"] == 0
    assert chat["aht_s"] is None
    assert chat["asa_s"] is None
    assert chat["service_level"] is None
    assert chat["abandonment"] is None
