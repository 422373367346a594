"""The contact metrics, each defined once as Ibis aggregates over the contact facts."""

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
Measures = dict[str, ir.Scalar]


@dataclass(frozen=True)
class ServiceSettings:
    """Service level counts answers within `level_s` seconds; with `exclude_short_abandons`,
    abandons shorter than `level_s` leave the denominator too."""

    level_s: float = 20
    exclude_short_abandons: bool = False


def share(part: ir.IntegerScalar, whole: ir.IntegerScalar) -> ir.FloatingScalar:
    """part / whole, null when whole is 0 (never an error, on engines in ANSI mode either)."""
    return part / whole.nullif(0)


def volume(facts: ir.Table) -> Measures:
    return {"contacts": facts.count()}


def fcr(facts: ir.Table) -> Measures:
    """Among contacts not abandoned, the share with no repeat contact (see `contact_facts`)."""
    counted = ~facts.abandoned
    contacts = facts.count(where=counted)
    resolved = facts.count(where=counted & ~facts.repeat)
    return {
        "fcr_contacts": contacts,
        "fcr_resolved": resolved,
        "fcr": share(resolved, contacts),
        "repeat_rate": share(contacts - resolved, contacts),
    }


def containment(facts: ir.Table) -> Measures:
    """Among contacts the assistant took part in, the share it finished (contained), and the
    share it finished with no contact of the same customer within the movement window after
    (verified)."""
    involved = facts.assistant_involved
    contained = involved & (facts.handled_by == "assistant")
    assistant = facts.count(where=involved)
    kept = facts.count(where=contained)
    verified = facts.count(where=contained & ~facts.followed)
    return {
        "assistant_contacts": assistant,
        "contained": kept,
        "verified_contained": verified,
        "containment": share(kept, assistant),
        "verified_containment": share(verified, assistant),
    }


def service(facts: ir.Table, settings: ServiceSettings | None = None) -> Measures:
    """Queue figures: offered (queued: wait_s known), answered, abandoned, AHT, ASA, service
    level and abandonment."""
    settings = settings or ServiceSettings()
    offered = facts.wait_s.notnull()
    answered = offered & ~facts.abandoned
    abandoned = offered & facts.abandoned
    base = offered
    if settings.exclude_short_abandons:
        base = offered & ~(abandoned & (facts.wait_s < settings.level_s))
    offered_n = facts.count(where=offered)
    abandoned_n = facts.count(where=abandoned)
    return {
        "offered": offered_n,
        "answered": facts.count(where=answered),
        "abandoned": abandoned_n,
        "aht_s": facts.handle_s.mean(where=facts.handled_by == "agent"),
        "asa_s": facts.wait_s.mean(where=answered),
        "service_level": share(
            facts.count(where=answered & (facts.wait_s <= settings.level_s)),
            facts.count(where=base),
        ),
        "abandonment": share(abandoned_n, offered_n),
    }


def surveys(facts: ir.Table) -> Measures:
    """CSAT: share of 4-5 among answers; NPS: % of 9-10 minus % of 0-6 (-100 to 100); CES: mean."""
    csat_n = facts.count(where=facts.csat.notnull())
    nps_n = facts.count(where=facts.nps.notnull())
    promoters = facts.count(where=facts.nps >= 9)
    detractors = facts.count(where=facts.nps <= 6)
    return {
        "csat_responses": csat_n,
        "csat": share(facts.count(where=facts.csat >= 4), csat_n),
        "nps_responses": nps_n,
        "nps": share((promoters - detractors) * 100, nps_n),
        "ces_responses": facts.count(where=facts.ces.notnull()),
        "ces": facts.ces.mean(),
    }


def digital(facts: ir.Table) -> Measures:
    """Contacts on any channel but voice, over all contacts."""
    contacts = facts.count()
    on_digital = facts.count(where=facts.channel != "voice")
    return {
        "contacts": contacts,
        "digital_contacts": on_digital,
        "digital_share": share(on_digital, contacts),
    }


def scorecard(facts: ir.Table, settings: ServiceSettings | None = None) -> Measures:
    """Every measure above in one pass."""
    return {
        **volume(facts),
        **fcr(facts),
        **containment(facts),
        **service(facts, settings),
        **surveys(facts),
        **digital(facts),
    }


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


def grouped(
    facts: ir.Table,
    measures: Callable[[ir.Table], Measures],
    by: Sequence[str] = (),
    grain: Grain = "week",
) -> ir.Table:
    """`measures` per group of `by`, ordered by the keys (nulls last, on every engine)."""
    group = keys(facts, by, grain)
    result = (
        facts.group_by(group).aggregate(**measures(facts))
        if group
        else facts.aggregate(**measures(facts))
    )
    return ordered(result, [key.get_name() for key in group])


def ordered(table: ir.Table, names: Sequence[str]) -> ir.Table:
    if not names:
        return table
    return table.order_by([ibis.asc(table[name], nulls_first=False) for name in names])
