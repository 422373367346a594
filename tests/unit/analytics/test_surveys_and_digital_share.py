"""CSAT, NPS and CES; digital share per ISO week."""

from __future__ import annotations

import pytest

from carepath.analytics.engine import Engine
from carepath.analytics.suite import Metrics, MetricSettings, rows
from tests.unit.analytics.builders import by_key, contact, contacts_table


def test_survey_scores(engine: Engine) -> None:
    # given five contacts with some survey answers
    metrics = Metrics(
        contacts_table(
            engine,
            [
                contact("s1", "a", 0, "chat", csat=5, nps=10, ces=1),
                contact("s2", "b", 0, "chat", csat=4, nps=9, ces=2),
                contact("s3", "c", 0, "chat", csat=3, nps=7),
                contact("s4", "d", 0, "chat", csat=1, nps=3, ces=4),
                contact("s5", "e", 0, "chat"),
            ],
        )
    )

    # when the survey scores are computed
    found = rows(metrics.surveys())[0]

    # then CSAT: 4-5 among 4 answers → 2/4; NPS: promoters 2 (10, 9), detractors 1 (3) of 4 →
    # (2 - 1) / 4 * 100 = 25; CES: (1 + 2 + 4) / 3.
    assert (found["csat_responses"], found["csat"]) == (4, 0.5)
    assert (found["nps_responses"], found["nps"]) == (4, 25.0)
    assert found["ces_responses"] == 3
    assert found["ces"] == pytest.approx(7 / 3)


def test_digital_share_per_iso_week(engine: Engine) -> None:
    # given contacts in three ISO weeks (T0 is Monday 2024-01-01 09:00 UTC)
    metrics = Metrics(
        contacts_table(
            engine,
            [
                contact("w0", "a", -10, "email"),  # Sunday 2023-12-31: ISO week 2023-W52
                contact("w1", "a", 0, "chat"),
                contact("w2", "b", 1, "voice"),
                contact("w3", "c", 2, "web", handled_by="self_service"),
                contact("w4", "d", 3, "voice"),
                contact("w5", "e", 158, "chat"),  # Sunday 2024-01-07 23:00: still 2024-W01
                contact("w6", "f", 159, "voice"),  # Monday 2024-01-08 00:00: 2024-W02
            ],
        )
    )

    # when the digital share per week is computed
    found = by_key(rows(metrics.digital_share()), "period")

    # then weeks are keyed by their Monday: W52 1/1; W01 chat, web, chat of 5 → 3/5; W02 0/1.
    assert found["2023-12-25"]["digital_share"] == 1.0
    assert (found["2024-01-01"]["digital_contacts"], found["2024-01-01"]["contacts"]) == (3, 5)
    assert found["2024-01-01"]["digital_share"] == pytest.approx(0.6)
    assert found["2024-01-08"]["digital_share"] == 0.0


def test_periods_by_day_and_month(engine: Engine) -> None:
    table = contacts_table(
        engine,
        [contact("d1", "a", 0, "chat"), contact("d2", "b", 24, "voice")],
    )

    days = rows(Metrics(table, MetricSettings(grain="day")).volume(["period"]))
    months = rows(Metrics(table, MetricSettings(grain="month")).volume(["period", "channel"]))

    assert [(r["period"], r["contacts"]) for r in days] == [("2024-01-01", 1), ("2024-01-02", 1)]
    assert [(r["period"], r["channel"]) for r in months] == [
        ("2024-01-01", "chat"),
        ("2024-01-01", "voice"),
    ]
