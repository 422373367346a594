"""Journey events: named, masked, bounded, and timed in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from carepath.domain import Channel, JourneyEvent, JourneyEventType
from carepath.errors import InvalidInput
from tests.unit.domain.factories import CUSTOMER, T0, TENANT


def app_event(**changes: object) -> JourneyEvent:
    values: dict[str, object] = {
        "tenant_id": TENANT,
        "customer_id": CUSTOMER,
        "type": JourneyEventType.APP_STEP,
        "name": "return_started",
        "channel": Channel.APP,
        "now": T0,
    }
    values.update(changes)
    return JourneyEvent.record(**values)  # type: ignore[arg-type]


def test_an_event_is_recorded_with_masked_properties() -> None:
    event = app_event(properties={"order": "A-1001", "card": "4111 1111 1111 1111"})

    assert event.id.startswith("jev_")
    assert event.properties == {"order": "A-1001", "card": "**** **** **** 1111"}
    assert event.occurred_at == T0
    assert event.recorded_at == T0


def test_a_reported_time_is_kept_in_utc() -> None:
    paris = timezone(timedelta(hours=2))

    event = app_event(occurred_at=datetime(2024, 5, 1, 11, 0, tzinfo=paris))

    assert event.occurred_at == datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    assert event.occurred_at.tzinfo is UTC


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bad\x07name"])
def test_a_name_is_1_to_100_printable_characters(name: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        app_event(name=name)

    assert raised.value.data["field"] == "name"


def test_properties_over_8_kb_are_refused() -> None:
    assert app_event(properties={"x": "y" * 8_000}).properties

    with pytest.raises(InvalidInput) as raised:
        app_event(properties={"x": "y" * 8_200})

    assert raised.value.data["field"] == "properties"


@pytest.mark.parametrize(
    "properties",
    [{"when": T0}, {"ratio": float("nan")}, {"nested": {1: "int key"}}],
    ids=["datetime", "nan", "int-key"],
)
def test_properties_must_be_plain_json(properties: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        app_event(properties=properties)


def test_clients_may_only_track_touchpoints() -> None:
    assert JourneyEventType.FORM_ABANDONED.is_trackable
    assert JourneyEventType.CUSTOM.is_trackable
    assert not JourneyEventType.RESOLUTION.is_trackable
    assert not JourneyEventType.HANDOFF.is_trackable
