"""Where you stand and the journey map on a hand-built input: every figure worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest

from carepath.assessment import assess, load_costs
from tests.unit.analytics.builders import by_key
from tests.unit.assessment.hand_built import STANDING, intake


@pytest.fixture(scope="module")
def summary() -> dict[str, Any]:
    return assess(intake(STANDING), load_costs())


def test_volume_and_channel_mix(summary: dict[str, Any]) -> None:
    standing = summary["standing"]
    # 7 contacts: web 1, voice 4 (k2, k4, k6, k7), chat 1, email 1
    assert standing["overall"][0]["contacts"] == 7
    channels = {r["channel"]: r["contacts"] for r in standing["by_channel"]}
    assert channels == {"web": 1, "voice": 4, "chat": 1, "email": 1}
    # digital: everything but voice, 3 of 7
    assert standing["overall"][0]["digital_share"] == pytest.approx(3 / 7)
    mix = {(r["segment"], r["channel"]): r["contacts"] for r in standing["mix_by_segment"]}
    assert mix == {
        ("business", "voice"): 2,
        ("consumer", "email"): 1,
        ("consumer", "voice"): 2,
        ("consumer", "web"): 1,
        ("young", "chat"): 1,
    }
    # over time: one day of input, so the period is the day
    assert {r["period"] for r in standing["by_period_channel"]} == {"2024-01-01"}


def test_fcr_and_repeat_contact(summary: dict[str, Any]) -> None:
    overall = summary["standing"]["overall"][0]
    # 6 contacts not abandoned; k1 (returns again on k2) and k4 (billing again on k5) repeat
    assert (overall["fcr_contacts"], overall["fcr_resolved"]) == (6, 4)
    assert overall["fcr"] == pytest.approx(4 / 6)
    assert overall["repeat_rate"] == pytest.approx(2 / 6)
    channels = by_key(summary["standing"]["by_channel"], "channel")
    # web: k1 repeats → 0; voice: k2 and k7 resolved, k4 repeats (k6 abandoned, not counted)
    assert channels["web"]["fcr"] == 0
    assert channels["voice"]["fcr"] == pytest.approx(2 / 3)
    assert channels["chat"]["fcr"] == 1
    intents = by_key(summary["standing"]["by_intent"], "intent")
    assert intents["returns"]["fcr"] == pytest.approx(1 / 2)
    assert intents["billing"]["fcr"] == pytest.approx(2 / 3)


def test_cross_channel_movement(summary: dict[str, Any]) -> None:
    cells = by_key(summary["standing"]["movement"], "from_channel", "to_channel")
    # k1 on the web was followed by a call (k2) within 24 h
    assert cells[("web", "voice")]["share"] == 1
    # of the 4 calls, k4 was followed by an email and k6 by another call
    assert cells[("voice", "email")]["share"] == pytest.approx(1 / 4)
    assert cells[("voice", "voice")]["share"] == pytest.approx(1 / 4)
    assert cells[("chat", "voice")]["share"] == 0
    by_intent = by_key(
        summary["standing"]["movement_by_intent"], "intent", "from_channel", "to_channel"
    )
    assert by_intent[("returns", "web", "voice")]["moved"] == 1


def test_service_figures(summary: dict[str, Any]) -> None:
    voice = by_key(summary["standing"]["by_channel"], "channel")["voice"]
    # offered: the 4 calls with a wait; k6 abandoned
    assert (voice["offered"], voice["answered"], voice["abandoned"]) == (4, 3, 1)
    # SL at 20 s: k2 (10 s) and k7 (5 s) of 4 offered
    assert voice["service_level"] == pytest.approx(2 / 4)
    # ASA: (10 + 30 + 5) / 3 answered
    assert voice["asa_s"] == pytest.approx(15.0)
    assert voice["abandonment"] == pytest.approx(1 / 4)
    # AHT over every agent contact with a handle time: k2 300, k4 200, k5 100, k7 400
    assert summary["standing"]["overall"][0]["aht_s"] == pytest.approx(250.0)


def test_survey_scores_and_containment(summary: dict[str, Any]) -> None:
    overall = summary["standing"]["overall"][0]
    # CSAT 5, 2, 4: two of three are 4-5
    assert overall["csat"] == pytest.approx(2 / 3)
    # NPS 10, 6, 9: 2 promoters, 1 detractor of 3 → 33.3 points
    assert overall["nps"] == pytest.approx(100 / 3)
    # CES 1 and 4
    assert (overall["ces"], overall["ces_responses"]) == (pytest.approx(2.5), 2)
    # the assistant took part in k3 only and finished it, with nothing after
    assert (overall["containment"], overall["verified_containment"]) == (1, 1)


def test_journey_map(summary: dict[str, Any]) -> None:
    journeys = summary["journeys"]
    # c1 web → voice, c2 chat, c3 voice → email, c4 voice (two calls fold into one step)
    assert journeys["breaks"] == [
        {"journeys": 4, "digital_starts": 2, "breaks": 1, "break_rate": 0.5}
    ]
    assert journeys["break_points"] == [{"before_voice": "web contact", "breaks": 1}]
    assert [v["path"] for v in journeys["variants"]] == [
        "chat contact",
        "voice contact",
        "voice contact → email contact",
        "web contact → voice contact",
    ]
    steps = {(r["step"], r["source"], r["target"]) for r in journeys["sankey"]}
    # steps count from 0: the first hop of each journey
    assert steps == {(0, "web", "voice"), (0, "voice", "email")}
