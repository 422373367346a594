"""Cross-channel movement: which channel customers came back on within H hours of a contact."""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir

from carepath.analytics.metrics import Measures, ordered, share, summary_keys, tally
from carepath.analytics.schema import CHANNELS

Filter = str | Sequence[str] | None


def movement_counts(facts: ir.Table) -> Measures:
    """What the matrix adds up from: contacts, and those followed on each channel."""
    return {
        "contacts": facts.count(),
        **{f"moved_{channel}": tally(facts[f"next_{channel}"]) for channel in CHANNELS},
    }


def movement(
    summary: ir.Table,
    by: Sequence[str] = (),
    *,
    intent: Filter = None,
    segment: Filter = None,
    handled_by: Filter = None,
) -> ir.Table:
    """The full matrix, one row per (from_channel, to_channel) and group of `by`: of the
    contacts on from_channel (optionally only those of the given intents, segments or
    handlers), how many were followed by a contact of the same customer on to_channel strictly
    after and within the facts' `hours`, and that share. The diagonal is same-channel repeat.
    Every channel appears as a destination, with 0 where nobody went. Rolled up from a summary
    holding `movement_counts` (metrics.summarize)."""
    for column, wanted in (("intent", intent), ("segment", segment), ("handled_by", handled_by)):
        if wanted is not None:
            values = [wanted] if isinstance(wanted, str) else list(wanted)
            summary = summary.filter(summary[column].isin(values))
    group = [summary.channel.name("from_channel"), *summary_keys(summary, by)]
    wide = summary.group_by(group).aggregate(
        contacts=summary.contacts.sum(),
        **{channel: summary[f"moved_{channel}"].sum() for channel in CHANNELS},
    )
    long = wide.pivot_longer(list(CHANNELS), names_to="to_channel", values_to="moved")
    names = [key.get_name() for key in group]
    result = long.select(
        *names, "to_channel", "contacts", "moved", share=share(long.moved, long.contacts)
    )
    return ordered(result, [*names, "to_channel"])
