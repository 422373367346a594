"""SLA clocks on business hours: weekends, holidays, and days when the clocks change."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carepath.errors import InvalidInput
from carepath.routing import BusinessCalendar

AMS = ZoneInfo("Europe/Amsterdam")
NY = ZoneInfo("America/New_York")
OFFICE = BusinessCalendar.weekly(
    "Europe/Amsterdam",
    dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), "09:00-17:00"),
    holidays=["2024-12-25", date(2024, 12, 26)],
)
HOUR = 3600.0


def test_the_clock_stops_over_the_weekend() -> None:
    # given Friday 16:00, two business hours to go
    start = datetime(2024, 6, 14, 16, 0, tzinfo=AMS)
    # then the SLA is due Monday 10:00
    assert OFFICE.add_business_seconds(start, 2 * HOUR) == datetime(2024, 6, 17, 10, tzinfo=AMS)


def test_the_clock_starts_at_opening_time() -> None:
    start = datetime(2024, 6, 17, 7, 0, tzinfo=AMS)
    assert OFFICE.add_business_seconds(start, 1800) == datetime(2024, 6, 17, 9, 30, tzinfo=AMS)


def test_holidays_are_skipped() -> None:
    # given Christmas Eve 16:30 and Christmas and Boxing Day closed
    start = datetime(2024, 12, 24, 16, 30, tzinfo=AMS)
    # then one business hour ends on Friday the 27th at 09:30
    assert OFFICE.add_business_seconds(start, HOUR) == datetime(2024, 12, 27, 9, 30, tzinfo=AMS)


def test_a_start_in_another_zone_is_the_same_instant() -> None:
    start = datetime(2024, 6, 17, 7, 0, tzinfo=UTC)  # 09:00 in Amsterdam
    due = OFFICE.add_business_seconds(start, HOUR)
    assert due == datetime(2024, 6, 17, 10, 0, tzinfo=AMS)
    assert due.tzinfo == AMS


NIGHTS = BusinessCalendar.weekly("America/New_York", {"sun": "00:00-06:00", "mon": "00:00-06:00"})


def test_spring_forward_shortens_the_opening_by_an_hour() -> None:
    # given 00:00-06:00 on the Sunday the clocks jump from 02:00 to 03:00 (5 real hours)
    sunday = datetime(2024, 3, 10, 0, 0, tzinfo=NY)
    assert NIGHTS.business_seconds_between(sunday, sunday + timedelta(days=1)) == 5 * HOUR
    # then 2 hours from 01:00 end at 04:00 daylight time
    one_am = datetime(2024, 3, 10, 1, 0, tzinfo=NY)
    assert NIGHTS.add_business_seconds(one_am, 2 * HOUR) == datetime(2024, 3, 10, 4, tzinfo=NY)
    # and 5.5 hours from midnight run over into Monday
    assert NIGHTS.add_business_seconds(sunday, 5.5 * HOUR) == datetime(
        2024, 3, 11, 0, 30, tzinfo=NY
    )


def test_fall_back_lengthens_the_opening_by_an_hour() -> None:
    # given 00:00-06:00 on the Sunday the clocks go back from 02:00 to 01:00 (7 real hours)
    sunday = datetime(2024, 11, 3, 0, 0, tzinfo=NY)
    assert NIGHTS.business_seconds_between(sunday, sunday + timedelta(days=1)) == 7 * HOUR
    # then 6.5 hours from midnight still end that night, at 05:30 standard time
    due = NIGHTS.add_business_seconds(sunday, 6.5 * HOUR)
    assert due.astimezone(UTC) == datetime(2024, 11, 3, 10, 30, tzinfo=UTC)
    assert (due.hour, due.minute, due.utcoffset()) == (5, 30, timedelta(hours=-5))


def test_always_open_counts_real_time_across_a_dst_change() -> None:
    always = BusinessCalendar.always_open("Europe/Amsterdam")
    before = datetime(2024, 3, 31, 1, 30, tzinfo=AMS)  # clocks jump 02:00 -> 03:00
    assert always.add_business_seconds(before, HOUR) == datetime(2024, 3, 31, 3, 30, tzinfo=AMS)


def test_is_open() -> None:
    assert OFFICE.is_open(datetime(2024, 6, 17, 9, 0, tzinfo=AMS))
    assert not OFFICE.is_open(datetime(2024, 6, 17, 17, 0, tzinfo=AMS))
    assert not OFFICE.is_open(datetime(2024, 12, 25, 12, 0, tzinfo=AMS))


@pytest.mark.parametrize("seed", range(20))
def test_adding_and_measuring_business_time_agree(seed: int) -> None:
    # given random starts and durations (several spanning DST changes and holidays)
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 365 * 86400))
    seconds = float(rng.randint(0, 30 * 8 * 3600))
    # then the business time between start and the due time is what was added
    due = OFFICE.add_business_seconds(start, seconds)
    assert OFFICE.business_seconds_between(start, due) == pytest.approx(seconds, abs=1e-3)


def test_bad_calendars_and_times_are_refused() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        BusinessCalendar.weekly("Mars/Olympus", {"mon": "09:00-17:00"})
    with pytest.raises(InvalidInput, match="HH:MM"):
        BusinessCalendar.weekly("UTC", {"mon": "9 to 5"})
    with pytest.raises(InvalidInput, match="never open"):
        BusinessCalendar.weekly("UTC", {})
    with pytest.raises(InvalidInput, match="sorted"):
        BusinessCalendar.weekly("UTC", {"mon": ["09:00-13:00", "12:00-17:00"]})
    with pytest.raises(InvalidInput, match="time zone"):
        OFFICE.add_business_seconds(datetime(2024, 6, 17, 9), HOUR)
