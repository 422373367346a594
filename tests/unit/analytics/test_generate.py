"""The synthetic generator: reproducible, valid, and its planted patterns come back out of the
metrics (the figures are in docs/subsystems/analytics.md)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from carepath.analytics import generate as g
from carepath.analytics.engine import Engine
from carepath.analytics.journeys import Journeys
from carepath.analytics.schema import CONTACTS, JOURNEY_EVENTS
from carepath.analytics.suite import Metrics, rows
from carepath.analytics.validation import validate_table
from carepath.errors import InvalidInput
from tests.unit.analytics.builders import by_key

# ± this much: with ~20,000 customers each tested share rests on thousands of contacts.
TOLERANCE = 0.025


@pytest.fixture(scope="module")
def generated() -> tuple[pa.Table, pa.Table]:
    parts = list(g.generate(20_000, 90, seed=11))
    return pa.concat_tables([c for c, _ in parts]), pa.concat_tables([e for _, e in parts])


@pytest.fixture(scope="module")
def metrics(engine: Engine, generated: tuple[pa.Table, pa.Table]) -> Metrics:
    return Metrics(engine.table(generated[0], "generated"))


def test_the_same_seed_gives_the_same_rows() -> None:
    first = pa.concat_tables([c for c, _ in g.generate(300, 30, seed=1)])
    again = pa.concat_tables([c for c, _ in g.generate(300, 30, seed=1)])
    other = pa.concat_tables([c for c, _ in g.generate(300, 30, seed=2)])

    assert first.equals(again)
    assert not first.equals(other)


def test_the_rows_are_valid(generated: tuple[pa.Table, pa.Table]) -> None:
    contacts, events = generated

    assert validate_table(contacts, CONTACTS)[1].ok
    assert validate_table(events, JOURNEY_EVENTS)[1].ok
    # about three contacts per customer
    assert 2.5 * 20_000 < contacts.num_rows < 3.5 * 20_000


def test_web_returns_phone_within_a_day(metrics: Metrics) -> None:
    cells = by_key(rows(metrics.movement(intent="return_item")), "from_channel", "to_channel")

    assert cells[("web", "voice")]["share"] == pytest.approx(g.RETURN_CALLS, abs=TOLERANCE)
    # and nothing else follows a return
    assert sum(cell["moved"] for key, cell in cells.items() if key != ("web", "voice")) == 0


def test_fcr_of_the_web_returns(metrics: Metrics) -> None:
    found = by_key(rows(metrics.fcr(["intent", "channel"])), "intent", "channel")

    assert found[("return_item", "web")]["fcr"] == pytest.approx(1 - g.RETURN_CALLS, abs=TOLERANCE)
    assert found[("return_item", "voice")]["fcr"] == 1.0
    # other intents: first contacts repeat with probability REPEAT, repeats never do, so
    # FCR = 1 / (1 + REPEAT) over all their contacts.
    assert found[("order_status", "chat")]["fcr"] == pytest.approx(
        1 / (1 + g.REPEAT), abs=TOLERANCE
    )


def test_the_young_prefer_whatsapp(metrics: Metrics) -> None:
    found = rows(metrics.volume(["segment", "intent", "channel"]))

    def whatsapp_share(segment: str) -> float:
        mine = [r for r in found if r["segment"] == segment and r["intent"] == "order_status"]
        on_whatsapp = sum(r["contacts"] for r in mine if r["channel"] == "whatsapp")
        return float(on_whatsapp / sum(r["contacts"] for r in mine))

    assert whatsapp_share("young") == pytest.approx(g.YOUNG_WHATSAPP, abs=TOLERANCE)
    assert whatsapp_share("consumer") == 0.0


def test_the_assistant_contains_some_intents_and_not_others(metrics: Metrics) -> None:
    found = by_key(rows(metrics.containment(["intent"])), "intent")

    for intent in ("order_status", "password_reset", "billing_dispute"):
        expected = g.INTENTS[intent].containment
        assert found[intent]["containment"] == pytest.approx(expected, abs=TOLERANCE)
        # a repeat follows a fifth of first contacts within the day: verified containment is
        # containment * (1 - REPEAT / (1 + REPEAT)) = containment / (1 + REPEAT).
        assert found[intent]["verified_containment"] == pytest.approx(
            expected / (1 + g.REPEAT), abs=TOLERANCE
        )
    assert found["cancel_subscription"]["assistant_contacts"] == 0


def test_return_journeys_break_into_calls(
    engine: Engine, generated: tuple[pa.Table, pa.Table]
) -> None:
    journeys = Journeys(
        engine.table(generated[0], "generated_contacts"),
        engine.table(generated[1], "generated_events"),
    )

    breaks = by_key(rows(journeys.breaks("intent")), "intent")
    variants = by_key(rows(journeys.variants("intent")), "intent", "rank")

    assert breaks["return_item"]["break_rate"] == pytest.approx(g.RETURN_CALLS, abs=TOLERANCE)
    assert variants[("return_item", 1)]["path"] == "web page_view → web contact"
    assert variants[("return_item", 2)]["path"] == "web page_view → web contact → voice contact"


def test_nothing_to_generate_is_refused() -> None:
    with pytest.raises(InvalidInput):
        g.generate(0, 30, seed=1)
