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
import ibis.expr.operations as ops
import ibis.expr.types as ir

from carepath.analytics.facts import FOLLOW_UPS, as_if_alone
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


def tally(condition: ir.BooleanValue) -> ir.IntegerScalar:
    """How many rows meet `condition` (null: no). A sum of 0/1 rather than a filtered count:
    DuckDB computes it about a quarter cheaper, and every engine agrees on it."""
    return ibis.ifelse(condition, 1, 0).sum()


def _none(_: ir.Table) -> Measures:
    return {}


def volume() -> Metric:
    return Metric(lambda f: {"contacts": f.count()}, _none, ("contacts",))


def fcr() -> Metric:
    """Among contacts not abandoned, the share with no repeat contact (see `contact_facts`)."""

    def counts(facts: ir.Table) -> Measures:
        counted = ~facts.abandoned
        return {
            "fcr_contacts": tally(counted),
            "fcr_resolved": tally(counted & ~facts.repeat),
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
            "assistant_contacts": tally(involved),
            "contained": tally(contained),
            "verified_contained": tally(contained & ~facts.followed),
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
            "offered": tally(offered),
            "answered": tally(answered),
            "abandoned": tally(abandoned),
            "agent_handle_s": facts.handle_s.sum(where=agent),
            "agent_handled": facts.handle_s.count(where=agent),
            "answered_wait_s": facts.wait_s.sum(where=answered),
            "within_level": tally(answered & (facts.wait_s <= settings.level_s)),
            "level_base": tally(base),
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
            "csat_responses": tally(facts.csat.notnull()),
            "csat_satisfied": tally(facts.csat >= 4),
            "nps_responses": tally(facts.nps.notnull()),
            "nps_promoters": tally(facts.nps >= 9),
            "nps_detractors": tally(facts.nps <= 6),
            "ces_responses": tally(facts.ces.notnull()),
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
            "digital_contacts": tally(facts.channel != "voice"),
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


def summarize(
    alone: ir.Table,
    followed: ir.Table,
    counts: Callable[[ir.Table], Measures],
    grain: Grain = "week",
) -> ir.Table:
    """`counts` per finest group (every dimension, the period at `grain`): the one pass over
    the contacts that every figure is rolled up from.

    Every contact is counted as if nothing followed it (`alone`, facts.as_if_alone), and the few
    that were followed (`followed`, facts.followed_contacts) correct the counts that read a
    follow-up flag: each adds what it counts with its flags and takes back what it counted
    without. That spares joining the flags back onto every contact; the correction is exact
    (counts are integers), and the other figures (sums of times, too) are never touched."""
    base = alone.group_by(keys(alone, DIMENSIONS, grain)).aggregate(**counts(alone))
    read_flags = [name for name, value in counts(alone).items() if _reads_follow_ups(value, alone)]
    if not read_flags:
        return base
    absent = follow_up_inputs(counts, alone) - set(followed.columns)
    if absent:
        raise ValueError(f"the followed contacts lack {sorted(absent)}, which the counts read")
    # Columns the followed contacts did not carry only complete the table for `counts`: no
    # figure computed from them here reads them (checked above).
    followed = followed.mutate(
        **{
            name: ibis.null(dtype)
            for name, dtype in alone.schema().items()
            if name not in followed.columns
        }
    )
    unflagged = as_if_alone(followed)
    corrections = [
        table.group_by(keys(table, DIMENSIONS, grain)).aggregate(
            **{name: value * sign for name, value in counts(table).items() if name in read_flags}
        )
        for table, sign in ((followed, 1), (unflagged, -1))
    ]
    # The figures no flag changes are null in the corrections: a sum leaves their value alone.
    untouched = {
        name: ibis.null(dtype)
        for name, dtype in base.schema().items()
        if name not in DIMENSIONS and name not in read_flags
    }
    stacked = ibis.union(
        base,
        *(correction.mutate(**untouched).select(*base.columns) for correction in corrections),
        distinct=False,
    )
    measured = [name for name in base.columns if name not in DIMENSIONS]
    return stacked.group_by(list(DIMENSIONS)).aggregate(
        **{name: stacked[name].sum().cast(base.schema()[name]) for name in measured}
    )


def follow_up_inputs(counts: Callable[[ir.Table], Measures], facts: ir.Table) -> set[str]:
    """The columns of a contact, besides the follow-up flags and the group keys, that the counts
    reading a flag read: what the followed contacts must carry for `summarize`."""
    read: set[str] = set()
    for value in counts(facts).values():
        if _reads_follow_ups(value, facts):
            read |= _columns_read(value, facts)
    return read - set(FOLLOW_UPS)


def _reads_follow_ups(value: ir.Value, facts: ir.Table) -> bool:
    return not _columns_read(value, facts).isdisjoint(FOLLOW_UPS)


def _columns_read(value: ir.Value, facts: ir.Table) -> set[str]:
    # Only the fields of `facts` itself: `find` also walks into the relations it is built from.
    table = facts.op()
    return {field.name for field in value.op().find(ops.Field) if field.rel == table}


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
