"""Where the company stands: the analytics suite's own figures over the assessed contacts
(volume and channel mix, FCR and repeat contact, movement, service, surveys) and its journeys.
Nothing here defines a metric: every figure is a `Metrics` or `Journeys` query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from carepath.analytics.journeys import Journeys, JourneySettings
from carepath.analytics.metrics import Grain
from carepath.analytics.suite import Metrics, MetricSettings, Row, rows

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Span:
    """The period the input covers: first and last start, and whole days from one to the other."""

    first: datetime
    last: datetime

    @property
    def days(self) -> float:
        return max((self.last - self.first).total_seconds() / 86_400, 1.0)

    @property
    def per_month(self) -> float:
        """Multiply a count over the input by this to get a count per month."""
        return DAYS_PER_MONTH / self.days

    @property
    def grain(self) -> Grain:
        return "day" if self.days <= 35 else "week" if self.days <= 400 else "month"

    def as_dict(self) -> dict[str, Any]:
        return {"first": self.first.isoformat(), "last": self.last.isoformat(), "days": self.days}


def span_of(contacts: pa.Table) -> Span:
    bounds = pc.min_max(contacts.column("started_at")).as_py()
    return Span(bounds["min"], bounds["max"])


def where_you_stand(contacts: ir.Table, settings: MetricSettings) -> dict[str, list[Row]]:
    """The scorecards, mixes, movement and digital share of the report."""
    suite = Metrics(contacts, settings, cache=True)
    return {
        "overall": rows(suite.scorecard()),
        "by_channel": rows(suite.scorecard(["channel"])),
        "by_intent": rows(suite.scorecard(["intent"])),
        "by_segment": rows(suite.scorecard(["segment"])),
        "mix_by_segment": rows(suite.volume(["segment", "channel"])),
        "by_intent_channel": rows(suite.scorecard(["intent", "channel"])),
        "by_intent_channel_handler": rows(suite.scorecard(["intent", "channel", "handled_by"])),
        "by_period_channel": rows(suite.scorecard(["period", "channel"])),
        "digital_share": rows(suite.digital_share()),
        "movement": rows(suite.movement()),
        "movement_by_intent": rows(suite.movement(["intent"])),
    }


def journey_map(
    contacts: ir.Table, settings: JourneySettings | None = None
) -> dict[str, list[Row]]:
    """The most common paths, where digital journeys break into phone calls, and the Sankey."""
    journeys = Journeys(contacts, None, settings, cache=True)
    return {
        "variants": rows(journeys.variants()),
        "breaks": rows(journeys.breaks()),
        "breaks_by_intent": rows(journeys.breaks("intent")),
        "break_points": rows(journeys.break_points()),
        "sankey": rows(journeys.sankey()),
    }
