"""The workload of a typical week: contacts per channel, intent and kind of work in each interval
of the week (Monday 00:00 first, in the contact centre's zone), and shifting part of an intent
from one channel to another."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from carepath.analytics.suite import rows
from carepath.assessment.scenario_model import Shift

AGENT = "agent"
# Who finishes a contact without an agent on a channel: self-service on the web, else the assistant.
AUTOMATED = ("self_service", "assistant")
Key = tuple[str, str | None, str]  # channel, intent, kind of work (agent, self_service, assistant)


@dataclass
class Week:
    """Average contacts per interval of the week, per (channel, intent, work)."""

    interval_minutes: int
    cells: dict[Key, list[float]] = field(default_factory=dict)

    @property
    def slots(self) -> int:
        return 7 * 24 * 60 // self.interval_minutes

    def copy(self) -> Week:
        return Week(self.interval_minutes, {key: list(v) for key, v in self.cells.items()})

    def series(self, key: Key) -> list[float]:
        if key not in self.cells:
            self.cells[key] = [0.0] * self.slots
        return self.cells[key]

    def total(self, channel: str | None = None, work: str | None = None) -> float:
        return sum(
            sum(values)
            for (c, _i, w), values in self.cells.items()
            if (channel is None or c == channel) and (work is None or w == work)
        )

    def channels(self) -> list[str]:
        return sorted({channel for channel, _i, _w in self.cells})

    def shift(self, shift: Shift, contained: float, automated_by: str) -> float:
        """Move `shift.share` of the intent's contacts on `shift.source` to `shift.target`:
        `contained` of them finish there without an agent, the rest go to an agent. Returns the
        contacts moved per week."""
        moved_total = 0.0
        for (channel, intent, _work), values in list(self.cells.items()):
            if channel != shift.source or intent != shift.intent:
                continue
            for slot, count in enumerate(values):
                moved = count * shift.share
                if not moved:
                    continue
                values[slot] -= moved
                moved_total += moved
                self.series((shift.target, intent, automated_by))[slot] += moved * contained
                self.series((shift.target, intent, AGENT))[slot] += moved * (1 - contained)
        return moved_total


def typical_week(contacts: ir.Table, interval_minutes: int, zone: str, weeks: float) -> Week:
    """Contacts per interval of the week, averaged over `weeks` weeks of input. Abandoned
    contacts count as agent work: they were waiting for one."""
    t = contacts
    work = ibis.ifelse((t.handled_by == AGENT) | t.abandoned, AGENT, t.handled_by)
    counted = t.group_by(
        [
            t.channel,
            t.intent,
            work.name("work"),
            t.started_at.bucket(minutes=interval_minutes).name("interval"),
        ]
    ).aggregate(contacts=t.count())
    week = Week(interval_minutes)
    local = ZoneInfo(zone)
    per_day = 24 * 60 // interval_minutes
    totals: dict[Key, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows(counted):
        start = datetime.fromisoformat(row["interval"]).replace(tzinfo=UTC).astimezone(local)
        slot = start.weekday() * per_day + (start.hour * 60 + start.minute) // interval_minutes
        totals[(row["channel"], row["intent"], row["work"])][slot] += row["contacts"]
    for key, by_slot in totals.items():
        series = week.series(key)
        for slot, count in by_slot.items():
            series[slot] += count / weeks
    return week
