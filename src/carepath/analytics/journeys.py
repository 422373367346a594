"""Journeys: a customer's touchpoints (journey events and contacts) in time order, cut where
they pause, as a directly-follows graph, variants, break points and channel transitions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import ibis
import ibis.expr.types as ir

from carepath.analytics.metrics import ordered
from carepath.errors import InvalidInput

START, END = "start", "end"
VOICE_CONTACT = "voice contact"
ARROW = " → "
JourneyGroup = Literal["segment", "intent"] | None


@dataclass(frozen=True)
class JourneySettings:
    """A pause longer than `gap_hours` starts a new journey; the Sankey follows the first
    `sankey_steps` channels; `top` variants are listed."""

    gap_hours: float = 48
    sankey_steps: int = 4
    top: int = 10

    def __post_init__(self) -> None:
        if self.gap_hours <= 0 or self.sankey_steps < 2 or self.top < 1:
            raise InvalidInput("journeys need a positive gap, at least 2 Sankey steps, top ≥ 1")


def touchpoints(contacts: ir.Table, events: ir.Table | None = None) -> ir.Table:
    """Contacts and journey events as one table: customer_id, ts, channel, kind ("contact" or
    the event type), activity ("<channel> <kind>"), intent and segment (contacts only)."""
    from_contacts = contacts.select(
        customer_id=contacts.customer_id,
        ts=contacts.started_at,
        channel=contacts.channel,
        kind=ibis.literal("contact"),
        intent=contacts.intent,
        segment=contacts.segment,
    )
    table = from_contacts
    if events is not None:
        from_events = events.select(
            customer_id=events.customer_id,
            ts=events.ts.cast(from_contacts.ts.type()),
            channel=events.channel,
            kind=events.type,
            intent=ibis.null("string"),
            segment=ibis.null("string"),
        )
        table = from_contacts.union(from_events)
    return table.mutate(activity=table.channel + " " + table.kind)


def steps(touch: ir.Table, gap_hours: float) -> ir.Table:
    """Touchpoints numbered into journeys (`journey`, per customer) and `step`s, with a
    touchpoint that repeats the one before it (same activity) folded into it."""
    by_customer = ibis.window(group_by=touch.customer_id, order_by=_order(touch))
    previous = touch.ts.lag().over(by_customer)
    gap = ibis.interval(seconds=round(gap_hours * 3_600))
    starts = ibis.ifelse(previous.isnull() | (touch.ts > previous + gap), 1, 0)
    numbered = touch.mutate(new_journey=starts)
    running = ibis.cumulative_window(group_by=numbered.customer_id, order_by=_order(numbered))
    numbered = numbered.mutate(journey=numbered.new_journey.sum().over(running))
    within = ibis.window(
        group_by=[numbered.customer_id, numbered.journey], order_by=_order(numbered)
    )
    # Window values become columns before a filter uses them: Spark cannot filter on a window.
    numbered = numbered.mutate(previous_activity=numbered.activity.lag().over(within))
    folded = numbered.filter(
        numbered.previous_activity.isnull() | (numbered.previous_activity != numbered.activity)
    )
    within = ibis.window(group_by=[folded.customer_id, folded.journey], order_by=_order(folded))
    return folded.select(
        "customer_id",
        "journey",
        "ts",
        "channel",
        "kind",
        "activity",
        "intent",
        "segment",
        step=ibis.row_number().over(within),
        next_activity=folded.activity.lead().over(within),
    )


def _order(table: ir.Table) -> list[ir.Value]:
    # intent and segment only break ties, so that every engine folds the same rows.
    return [table.ts, table.activity, table.intent.fill_null(""), table.segment.fill_null("")]


class Journeys:
    """The journey analyses of one contacts table (and, optionally, its journey events), of the
    journeys with the values in `where` (intent, segment, first_channel: column → value). With
    `cache`, the numbered touchpoints and the journeys are computed once and kept by the engine."""

    def __init__(
        self,
        contacts: ir.Table,
        events: ir.Table | None = None,
        settings: JourneySettings | None = None,
        *,
        where: Mapping[str, str] | None = None,
        cache: bool = False,
    ) -> None:
        self.settings = settings or JourneySettings()
        self.steps = steps(touchpoints(contacts, events), self.settings.gap_hours)
        if cache:
            self.steps = self.steps.cache()
        s = self.steps
        self.journeys = s.group_by(["customer_id", "journey"]).aggregate(
            touchpoints=s.count(),
            intent=s.intent.argmin(s.step, where=s.intent.notnull()),
            segment=s.segment.argmin(s.step, where=s.segment.notnull()),
            first_channel=s.channel.argmin(s.step),
            first_voice=s.step.min(where=s.activity == VOICE_CONTACT),
            path=ibis.struct({"step": s.step, "activity": s.activity})
            .collect()
            .sort()
            .map(lambda item: item.activity)
            .join(ARROW),
        )
        if where:
            for column, value in where.items():
                self.journeys = self.journeys.filter(self.journeys[column] == value)
            # The touchpoints of the journeys kept, so that the graph and the Sankey agree.
            self.steps = self.steps.semi_join(self.journeys, ["customer_id", "journey"])
        if cache:
            self.journeys = self.journeys.cache()

    def variants(self, by: JourneyGroup = None) -> ir.Table:
        """The `top` most common paths (per group), with how many journeys took each."""
        j = self.journeys
        group = _group(j, by)
        counted = j.group_by([*group, j.path]).aggregate(journeys=j.count())
        rank = ibis.row_number().over(
            ibis.window(
                group_by=[counted[name] for name in _names(by)],
                order_by=[ibis.desc(counted.journeys), counted.path],
            )
        )
        top = counted.mutate(rank=rank + 1).filter(lambda t: t.rank <= self.settings.top)
        return ordered(top, [*_names(by), "rank"])

    def graph(self, by: JourneyGroup = None) -> ir.Table:
        """The directly-follows graph: how often `target` came straight after `source`, with
        `start` and `end` around each journey."""
        s = self._with_group(by)
        names = _names(by)
        firsts = s.filter(s.step == 0).select(*names, source=ibis.literal(START), target=s.activity)
        follows = s.select(*names, source=s.activity, target=s.next_activity.fill_null(END))
        edges = firsts.union(follows)
        counted = edges.group_by([*names, "source", "target"]).aggregate(count=edges.count())
        return ordered(counted, [*names, "source", "target"])

    def breaks(self, by: JourneyGroup = None) -> ir.Table:
        """Journeys that start digital (any channel but voice) and later reach a voice contact."""
        j = self.journeys
        digital = j.first_channel != "voice"
        broke = digital & j.first_voice.notnull()
        group = _group(j, by)
        starts = j.count(where=digital)
        breaks = j.count(where=broke)
        result = (j.group_by(group) if group else j).aggregate(
            journeys=j.count(),
            digital_starts=starts,
            breaks=breaks,
            break_rate=breaks / starts.nullif(0),
        )
        return ordered(result, _names(by))

    def break_points(self, by: JourneyGroup = None) -> ir.Table:
        """Where digital journeys broke: the touchpoint just before the first voice contact."""
        j = self.journeys
        broke = j.filter((j.first_channel != "voice") & j.first_voice.notnull())
        s = self.steps
        before = broke.join(
            s,
            [
                broke.customer_id == s.customer_id,
                broke.journey == s.journey,
                s.step == broke.first_voice - 1,
            ],
        )
        names = _names(by)
        counted = before.group_by([*[broke[name] for name in names], s.activity]).aggregate(
            breaks=before.count()
        )
        counted = counted.rename(before_voice="activity")
        return ordered(counted, [*names, "before_voice"])

    def sankey(self) -> ir.Table:
        """Channel transitions by position: journeys going from `source` at `step` to `target`
        at `step + 1` (steps from 0, same-channel runs folded), over the first `sankey_steps`."""
        s = self.steps
        within = ibis.window(group_by=[s.customer_id, s.journey], order_by=s.step)
        s = s.mutate(previous_channel=s.channel.lag().over(within))
        changed = s.filter(s.previous_channel.isnull() | (s.previous_channel != s.channel))
        within = ibis.window(group_by=[changed.customer_id, changed.journey], order_by=changed.step)
        hops = changed.select(
            step=ibis.row_number().over(within),
            source=changed.channel,
            target=changed.channel.lead().over(within),
        )
        hops = hops.filter(hops.target.notnull() & (hops.step < self.settings.sankey_steps - 1))
        counted = hops.group_by(["step", "source", "target"]).aggregate(journeys=hops.count())
        return ordered(counted, ["step", "source", "target"])

    def _with_group(self, by: JourneyGroup) -> ir.Table:
        if by is None:
            return self.steps
        j = self.journeys.select("customer_id", "journey", by)
        s = self.steps.drop("intent", "segment")
        return s.join(j, ["customer_id", "journey"])


def _names(by: JourneyGroup) -> list[str]:
    if by not in (None, "segment", "intent"):
        raise InvalidInput(f"journeys group by segment or intent, not {by!r}")
    return [] if by is None else [by]


def _group(table: ir.Table, by: JourneyGroup) -> list[ir.Value]:
    return [table[name] for name in _names(by)]
