"""The contact metrics, each defined once as Ibis expressions over the contact facts.

A metric comes in two steps so that any grouping adds up from one pass over the contacts:
`counts` are counts and sums per group (a coarser group's are the sums of its finer groups'),
`ratios` derive the rest from those. `Metrics` (suite.py) counts once per finest group (the
summary) and rolls every figure up from it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.types as ir

from carepath.errors import InvalidInput

Grain = Literal["day", "week", "month"]
GRAINS: dict[str, str] = {"day": "D", "week": "W", "month": "M"}
DIMENSIONS = ("channel", "intent", "segment", "handled_by", "period")
Measures = dict[str, ir.Value]


@dataclass(frozen=True)
class ServiceSettings:
    """Service level counts answers within `level_s` seconds; with `exclude_short_abandons`,
    abandons shorter than `level_s` leave the denominator too."""

    level_s: float = 20
    exclude_short_abandons: bool = False


@dataclass(frozen=True)
class Metric:
    """`counts(facts)`: the additive figures of a group; `ratios(sums)`: the rest, over a table
    of those; `columns`: what is shown, in order (counts that only feed a ratio are not)."""

    counts: Callable[[ir.Table], Measures]
    ratios: Callable[[ir.Table], Measures]
    columns: tuple[str, ...]


def share(part: ir.NumericValue, whole: ir.NumericValue) -> ir.FloatingValue:
    """part / whole, null when whole is 0 (never an error, on engines in ANSI mode either)."""
    return part / whole.nullif(0)


def _none(_: ir.Table) -> Measures:
    return {}


def volume() -> Metric:
    return Metric(lambda f: {"contacts": f.count()}, _none, ("contacts",))


def fcr() -> Metric:
    """Among contacts not abandoned, the share with no repeat contact (see `contact_facts`)."""

    def counts(facts: ir.Table) -> Measures:
        counted = ~facts.abandoned
        return {
            "fcr_contacts": facts.count(where=counted),
            "fcr_resolved": facts.count(where=counted & ~facts.repeat),
        }

    def ratios(t: ir.Table) -> Measures:
        return {
            "fcr": share(t.fcr_resolved, t.fcr_contacts),
            "repeat_rate": share(t.fcr_contacts - t.fcr_resolved, t.fcr_contacts),
        }

    return Metric(counts, ratios, ("fcr_contacts", "fcr_resolved", "fcr", "repeat_rate"))


def containment() -> Metric:
    """Among contacts the assistant took part in, the share it finished (contained), and the
    share it finished with no contact of the same customer within the movement window after
    (verified)."""

    def counts(facts: ir.Table) -> Measures:
        involved = facts.assistant_involved
        contained = involved & (facts.handled_by == "assistant")
        return {
            "assistant_contacts": facts.count(where=involved),
            "contained": facts.count(where=contained),
            "verified_contained": facts.count(where=contained & ~facts.followed),
        }

    def ratios(t: ir.Table) -> Measures:
        return {
            "containment": share(t.contained, t.assistant_contacts),
            "verified_containment": share(t.verified_contained, t.assistant_contacts),
        }

    columns = (
        "assistant_contacts",
        "contained",
        "verified_contained",
        "containment",
        "verified_containment",
    )
    return Metric(counts, ratios, columns)


def service(settings: ServiceSettings | None = None) -> Metric:
    """Queue figures: offered (queued: wait_s known), answered, abandoned, AHT, ASA, service
    level and abandonment. Means are a sum over a count of the values present."""
    settings = settings or ServiceSettings()

    def counts(facts: ir.Table) -> Measures:
        offered = facts.wait_s.notnull()
        answered = offered & ~facts.abandoned
        abandoned = offered & facts.abandoned
        base = offered
        if settings.exclude_short_abandons:
            base = offered & ~(abandoned & (facts.wait_s < settings.level_s))
        agent = facts.handled_by == "agent"
        return {
            "offered": facts.count(where=offered),
            "answered": facts.count(where=answered),
            "abandoned": facts.count(where=abandoned),
            "agent_handle_s": facts.handle_s.sum(where=agent),
            "agent_handled": facts.handle_s.count(where=agent),
            "answered_wait_s": facts.wait_s.sum(where=answered),
            "within_level": facts.count(where=answered & (facts.wait_s <= settings.level_s)),
            "level_base": facts.count(where=base),
        }

    def ratios(t: ir.Table) -> Measures:
        return {
            "aht_s": share(t.agent_handle_s, t.agent_handled),
            "asa_s": share(t.answered_wait_s, t.answered),
            "service_level": share(t.within_level, t.level_base),
            "abandonment": share(t.abandoned, t.offered),
        }

    columns = (
        "offered",
        "answered",
        "abandoned",
        "aht_s",
        "asa_s",
        "service_level",
        "abandonment",
    )
    return Metric(counts, ratios, columns)


def surveys() -> Metric:
    """CSAT: share of 4-5 among answers; NPS: % of 9-10 minus % of 0-6 (-100 to 100); CES: mean."""

    def counts(facts: ir.Table) -> Measures:
        return {
            "csat_responses": facts.count(where=facts.csat.notnull()),
            "csat_satisfied": facts.count(where=facts.csat >= 4),
            "nps_responses": facts.count(where=facts.nps.notnull()),
            "nps_promoters": facts.count(where=facts.nps >= 9),
            "nps_detractors": facts.count(where=facts.nps <= 6),
            "ces_responses": facts.count(where=facts.ces.notnull()),
            "ces_total": facts.ces.sum(),
        }

    def ratios(t: ir.Table) -> Measures:
        return {
            "csat": share(t.csat_satisfied, t.csat_responses),
            "nps": share((t.nps_promoters - t.nps_detractors) * 100, t.nps_responses),
            "ces": share(t.ces_total, t.ces_responses),
        }

    columns = ("csat_responses", "csat", "nps_responses", "nps", "ces_responses", "ces")
    return Metric(counts, ratios, columns)


def digital() -> Metric:
    """Contacts on any channel but voice, over all contacts."""

    def counts(facts: ir.Table) -> Measures:
        return {
            "contacts": facts.count(),
            "digital_contacts": facts.count(where=facts.channel != "voice"),
        }

    def ratios(t: ir.Table) -> Measures:
        return {"digital_share": share(t.digital_contacts, t.contacts)}

    return Metric(counts, ratios, ("contacts", "digital_contacts", "digital_share"))


def combined(*metrics: Metric) -> Metric:
    """Several metrics as one; a count two of them share is counted once."""

    def counts(facts: ir.Table) -> Measures:
        return {name: value for metric in metrics for name, value in metric.counts(facts).items()}

    def ratios(t: ir.Table) -> Measures:
        return {name: value for metric in metrics for name, value in metric.ratios(t).items()}

    columns = tuple(dict.fromkeys(name for metric in metrics for name in metric.columns))
    return Metric(counts, ratios, columns)


def scorecard(settings: ServiceSettings | None = None) -> Metric:
    """Every measure above."""
    return combined(volume(), fcr(), containment(), service(settings), surveys(), digital())


def keys(table: ir.Table, by: Sequence[str], grain: Grain = "week") -> list[ir.Value]:
    """Group keys by name; `period` is the start of the day, ISO week (Monday) or month."""
    if grain not in GRAINS:
        raise InvalidInput(f"unknown period {grain!r}; use one of {', '.join(GRAINS)}")
    found: list[ir.Value] = []
    for name in by:
        if name == "period":
            found.append(table.started_at.truncate(GRAINS[grain]).cast("date").name("period"))
        elif name in DIMENSIONS:
            found.append(table[name])
        else:
            raise InvalidInput(f"cannot group by {name!r}; use {', '.join(DIMENSIONS)}")
    return found


def summary_keys(summary: ir.Table, by: Sequence[str]) -> list[ir.Value]:
    """Group keys by name over a summary, where `period` is already a column."""
    unknown = [name for name in by if name not in DIMENSIONS]
    if unknown:
        raise InvalidInput(f"cannot group by {unknown[0]!r}; use {', '.join(DIMENSIONS)}")
    return [summary[name] for name in by]


def summarize(facts: ir.Table, counts: Measures, grain: Grain = "week") -> ir.Table:
    """`counts` per finest group (every dimension, the period at `grain`): the one pass over
    the contacts that every figure is rolled up from."""
    return facts.group_by(keys(facts, DIMENSIONS, grain)).aggregate(**counts)


def rolled_up(summary: ir.Table, metric: Metric, by: Sequence[str] = ()) -> ir.Table:
    """`metric` per group of `by`, from a summary: its counts summed, then its ratios; ordered
    by the keys (nulls last, on every engine). With no `by`, one row, even over no contacts."""
    group = summary_keys(summary, by)
    counted = [name for name in summary.columns if name not in DIMENSIONS]
    # A sum over no rows is null; a count of nothing is 0 (and a ratio over it still null).
    sums = {name: summary[name].sum().fill_null(0) for name in counted}
    totals = summary.group_by(group).aggregate(**sums) if group else summary.aggregate(**sums)
    result = totals.mutate(**metric.ratios(totals)).select(*by, *metric.columns)
    return ordered(result, list(by))


def ordered(table: ir.Table, names: Sequence[str]) -> ir.Table:
    if not names:
        return table
    return table.order_by([ibis.asc(table[name], nulls_first=False) for name in names])
