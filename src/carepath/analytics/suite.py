"""The metric suite over one contacts table, and running every analysis to plain rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import ibis.expr.types as ir

from carepath.analytics import metrics as m
from carepath.analytics.facts import Windows, as_if_alone, between, followed_contacts
from carepath.analytics.journeys import JourneyGroup, Journeys, JourneySettings
from carepath.analytics.movement import Filter, movement, movement_counts
from carepath.analytics.strategy import Plan, compliance, compliance_counts

Row = dict[str, Any]


@dataclass(frozen=True)
class MetricSettings:
    """Every knob of the metric definitions, with the defaults the docs describe."""

    fcr_days: float = 7
    hours: float = 24
    service_level_s: float = 20
    exclude_short_abandons: bool = False
    grain: m.Grain = "week"

    @property
    def windows(self) -> Windows:
        return Windows(self.fcr_days, self.hours)

    @property
    def service(self) -> m.ServiceSettings:
        return m.ServiceSettings(self.service_level_s, self.exclude_short_abandons)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Metrics:
    """Every metric of one contacts table as an Ibis expression, over the contacts that started
    in [start, end) and have the values in `where` (column → value: channel, intent, segment,
    handled_by); follow-up contacts are looked for in the whole table.

    The facts are counted once per finest group (`summary`: every dimension and the period) and
    every figure is rolled up from those counts, so a suite of groupings reads the contacts once.
    With `cache`, the engine computes the summary once and keeps it for the following queries."""

    def __init__(
        self,
        contacts: ir.Table,
        settings: MetricSettings | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        where: Mapping[str, str] | None = None,
        cache: bool = False,
    ) -> None:
        self.settings = settings or MetricSettings()
        chosen = self._chosen(contacts, start, end, where)

        def counts(facts: ir.Table) -> m.Measures:
            return {
                **m.scorecard(self.settings.service).counts(facts),
                **movement_counts(facts),
                **compliance_counts(facts),
            }

        alone = as_if_alone(chosen)
        # What the followed contacts carry: what the group keys, the filters and the counts
        # that read a follow-up flag need of them.
        needed = {"started_at", *m.DIMENSIONS, *(where or {})} | m.follow_up_inputs(counts, alone)
        carry = [name for name in contacts.columns if name in needed]
        followed = followed_contacts(contacts, self.settings.windows, carry)
        followed = self._chosen(followed, start, end, where)
        summary = m.summarize(alone, followed, counts, self.settings.grain)
        self.summary = summary.cache() if cache else summary

    @staticmethod
    def _chosen(
        table: ir.Table,
        start: datetime | None,
        end: datetime | None,
        where: Mapping[str, str] | None,
    ) -> ir.Table:
        table = between(table, start, end)
        for column, value in (where or {}).items():
            table = table.filter(table[column] == value)
        return table

    def _grouped(self, metric: m.Metric, by: Sequence[str]) -> ir.Table:
        return m.rolled_up(self.summary, metric, by)

    def scorecard(self, by: Sequence[str] = ()) -> ir.Table:
        return self._grouped(m.scorecard(self.settings.service), by)

    def volume(self, by: Sequence[str] = ()) -> ir.Table:
        return self._grouped(m.volume(), by)

    def fcr(self, by: Sequence[str] = ()) -> ir.Table:
        return self._grouped(m.fcr(), by)

    def containment(self, by: Sequence[str] = ()) -> ir.Table:
        return self._grouped(m.containment(), by)

    def service(self, by: Sequence[str] = ()) -> ir.Table:
        return self._grouped(m.service(self.settings.service), by)

    def surveys(self, by: Sequence[str] = ()) -> ir.Table:
        return self._grouped(m.surveys(), by)

    def digital_share(self, by: Sequence[str] = ()) -> ir.Table:
        """Per period (ISO week by default) and `by`."""
        return self._grouped(m.digital(), ["period", *[name for name in by if name != "period"]])

    def movement(
        self,
        by: Sequence[str] = (),
        *,
        intent: Filter = None,
        segment: Filter = None,
        handled_by: Filter = None,
    ) -> ir.Table:
        return movement(self.summary, by, intent=intent, segment=segment, handled_by=handled_by)

    def compliance(self, plan: Plan, by: Sequence[str] = ()) -> ir.Table:
        return compliance(self.summary, plan, by)


def rows(expr: ir.Table) -> list[Row]:
    """Run an expression; dates and times as ISO 8601 text, so rows go straight to JSON."""
    return [
        {key: _plain(value) for key, value in row.items()} for row in expr.to_pyarrow().to_pylist()
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def run_suite(
    contacts: ir.Table,
    events: ir.Table | None = None,
    *,
    settings: MetricSettings | None = None,
    journey_settings: JourneySettings | None = None,
    plan: Plan | None = None,
    by: Sequence[Sequence[str]] = (("channel",), ("intent",), ("segment",), ("channel", "period")),
    journey_groups: Sequence[JourneyGroup] = (None, "segment", "intent"),
    cache: bool = False,
) -> dict[str, list[Row]]:
    """Every analysis of the package, run, as named lists of rows: what the engines must agree
    on, and what the benchmark times."""
    suite = Metrics(contacts, settings, cache=cache)
    results: dict[str, list[Row]] = {}
    for group in by:
        results[f"scorecard_by_{'_'.join(group)}"] = rows(suite.scorecard(group))
    results["digital_share"] = rows(suite.digital_share())
    results["movement"] = rows(suite.movement())
    results["movement_by_intent"] = rows(suite.movement(["intent"]))
    if plan is not None:
        results["compliance"] = rows(suite.compliance(plan))
    journeys = Journeys(contacts, events, journey_settings, cache=cache)
    for journey_group in journey_groups:
        suffix = "" if journey_group is None else f"_by_{journey_group}"
        results[f"variants{suffix}"] = rows(journeys.variants(journey_group))
        results[f"graph{suffix}"] = rows(journeys.graph(journey_group))
        results[f"breaks{suffix}"] = rows(journeys.breaks(journey_group))
        results[f"break_points{suffix}"] = rows(journeys.break_points(journey_group))
    results["sankey"] = rows(journeys.sankey())
    return results
