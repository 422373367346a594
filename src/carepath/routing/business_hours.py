"""Business hours for SLA clocks: a time zone, weekly opening hours and holidays. SLA time only runs
while the business is open, counted in real seconds, so a DST change shortens or lengthens that
day's opening by the hour the clocks jumped."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carepath.errors import InvalidInput

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
# A calendar closed this long in a row is a configuration mistake, not a long weekend.
MAX_CLOSED_DAYS = 400
_SPAN = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")

Span = tuple[int, int]  # minutes after local midnight: [open, close), close may be 1440


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours per weekday (Monday first) in local wall-clock time, and closed dates.

    A wall time that does not exist on a DST change day (02:30 when clocks jump from 02:00 to
    03:00) is read with the offset from before the change, i.e. one hour later in the new time.
    """

    tz: ZoneInfo
    hours: tuple[tuple[Span, ...], ...]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if len(self.hours) != len(WEEKDAYS):
            raise InvalidInput("opening hours need one entry per weekday", field="hours")
        for day, spans in zip(WEEKDAYS, self.hours, strict=True):
            previous = 0
            for opens, closes in spans:
                if not previous <= opens < closes <= DAY_MINUTES:
                    raise InvalidInput(
                        f"{day}: opening hours must be sorted, not overlap, and lie in 00:00-24:00",
                        field=f"hours.{day}",
                    )
                previous = closes
        if not any(self.hours):
            raise InvalidInput("the business is never open: give some opening hours", field="hours")

    @classmethod
    def weekly(
        cls,
        tz: str,
        hours: Mapping[str, str | Sequence[str]],
        holidays: Iterable[date | str] = (),
    ) -> BusinessCalendar:
        """From `{"mon": "09:00-17:00", "sat": ["10:00-12:00", "13:00-15:00"]}`; days left out
        (or "closed") are closed."""
        unknown = set(hours) - set(WEEKDAYS)
        if unknown:
            raise InvalidInput(
                f"unknown weekday(s) {sorted(unknown)}; use {', '.join(WEEKDAYS)}", field="hours"
            )
        per_day = tuple(
            tuple(sorted(_parse_spans(day, hours.get(day, "closed")))) for day in WEEKDAYS
        )
        closed = frozenset(d if isinstance(d, date) else _parse_date(d) for d in holidays)
        return cls(zone(tz), per_day, closed)

    @classmethod
    def always_open(cls, tz: str = "UTC") -> BusinessCalendar:
        return cls(zone(tz), tuple(((0, DAY_MINUTES),) for _ in WEEKDAYS))

    def open_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's opening hours as UTC instants (none on a holiday)."""
        if day in self.holidays:
            return []
        midnight = datetime.combine(day, time(0), tzinfo=self.tz)
        spans = []
        for opens, closes in self.hours[day.weekday()]:
            # Adding to an aware datetime moves the wall clock; converting then gives the instant.
            start = (midnight + timedelta(minutes=opens)).astimezone(UTC)
            end = (midnight + timedelta(minutes=closes)).astimezone(UTC)
            if end > start:
                spans.append((start, end))
        return spans

    def is_open(self, at: datetime) -> bool:
        instant = _utc(at)
        day = instant.astimezone(self.tz).date()
        return any(start <= instant < end for start, end in self.open_spans(day))

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant when `seconds` of open time have passed since `start` (local time)."""
        if seconds < 0:
            raise InvalidInput("business seconds cannot be negative", field="seconds")
        cursor = _utc(start)
        remaining = seconds
        if remaining == 0:
            return cursor.astimezone(self.tz)
        for opens, closes in self._spans_from(cursor):
            if closes <= cursor:
                continue
            begin = max(opens, cursor)
            available = (closes - begin).total_seconds()
            if remaining <= available:
                return (begin + timedelta(seconds=remaining)).astimezone(self.tz)
            remaining -= available
            cursor = closes
        raise AssertionError("unreachable: _spans_from never ends")  # pragma: no cover

    def business_seconds_between(self, start: datetime, end: datetime) -> float:
        """Open seconds in [start, end); 0 when end is not after start."""
        lo, hi = _utc(start), _utc(end)
        total = 0.0
        if hi <= lo:
            return total
        for opens, closes in self._spans_from(lo):
            if opens >= hi:
                break
            overlap = (min(closes, hi) - max(opens, lo)).total_seconds()
            total += max(0.0, overlap)
        return total

    def _spans_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = instant.astimezone(self.tz).date()
        closed_days = 0
        while True:
            spans = self.open_spans(day)
            closed_days = 0 if spans else closed_days + 1
            if closed_days > MAX_CLOSED_DAYS:
                raise InvalidInput(
                    f"the calendar is closed for more than {MAX_CLOSED_DAYS} days from "
                    f"{day.isoformat()}; check its holidays",
                    field="holidays",
                )
            yield from spans
            day += timedelta(days=1)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Amsterdam", field="tz"
        ) from exc


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("SLA times need a time zone (an aware datetime)", field="start")
    return at.astimezone(UTC)


def _parse_spans(day: str, value: str | Sequence[str]) -> list[Span]:
    texts = [value] if isinstance(value, str) else list(value)
    spans = []
    for text in texts:
        if text.strip().lower() in ("", "closed"):
            continue
        found = _SPAN.fullmatch(text.strip())
        if found is None:
            raise InvalidInput(
                f"{day}: {text!r} is not HH:MM-HH:MM (e.g. 09:00-17:30)", field=f"hours.{day}"
            )
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        if m1 > 59 or m2 > 59 or h1 > 24 or h2 > 24:
            raise InvalidInput(f"{day}: {text!r} is not a time of day", field=f"hours.{day}")
        spans.append((h1 * 60 + m1, h2 * 60 + m2))
    return spans


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"holiday {text!r} is not a YYYY-MM-DD date", field="holidays") from exc
