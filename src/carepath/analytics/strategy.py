"""Strategy compliance: the treatment each contact got, against the one the strategy plans."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from carepath.analytics.metrics import Measures, ordered, share, summary_keys, tally
from carepath.analytics.schema import CHANNELS
from carepath.errors import InvalidInput

if TYPE_CHECKING:
    from carepath.tenant_config import TenantConfig

TREATMENTS = ("self_serve", "assisted", "live", "offer_digital")
ANY = "*"
# (intent, channel) → treatment; ANY as the intent or channel is the default for the other.
Plan = Mapping[tuple[str, str], str]


def check_plan(plan: Plan) -> dict[tuple[str, str], str]:
    checked: dict[tuple[str, str], str] = {}
    for (intent, channel), treatment in plan.items():
        if treatment not in TREATMENTS:
            raise InvalidInput(
                f"plan for {intent}/{channel}: unknown treatment {treatment!r}; "
                f"use one of {', '.join(TREATMENTS)}",
                field="plan",
            )
        if channel != ANY and channel not in CHANNELS:
            raise InvalidInput(
                f"plan for {intent}/{channel}: unknown channel {channel!r}", field="plan"
            )
        checked[(intent, channel)] = treatment
    return checked


def plan_from_config(config: TenantConfig) -> dict[tuple[str, str], str]:
    """The plan a tenant's strategy map makes, cell by cell, from the same `treatment_for` the
    router obeys; `social` is read as Messenger's cell (the interchange has one social channel)."""
    # Imported here: the definitions themselves run where the operational model is not installed
    # (a Spark cluster, the benchmark).
    from carepath.domain.contacts import Channel
    from carepath.tenant_config import treatment_for

    intents = sorted({intent.name for intent in config.intents} | set(config.strategy.intents))
    plan: dict[tuple[str, str], str] = {}
    for channel in CHANNELS:
        own = Channel.MESSENGER if channel == "social" else Channel(channel)
        plan[(ANY, channel)] = treatment_for(config, None, own).kind.value
        for intent in intents:
            plan[(intent, channel)] = treatment_for(config, intent, own).kind.value
    return plan


def treatment(facts: ir.Table) -> ir.StringValue:
    """The treatment a contact got, the rule in docs/subsystems/analytics.md:

    abandoned → none (null: nothing was delivered); voice not finished by an agent and followed
    within the movement window by a digital contact → offer_digital; finished without an agent
    (self-service or the assistant) → self_serve; an agent after the assistant → assisted; an
    agent alone → live.
    """
    return ibis.cases(
        (facts.abandoned, ibis.null("string")),
        (
            (facts.channel == "voice") & (facts.handled_by != "agent") & facts.digital_next,
            ibis.literal("offer_digital"),
        ),
        (facts.handled_by != "agent", ibis.literal("self_serve")),
        (facts.assistant_involved, ibis.literal("assisted")),
        else_=ibis.literal("live"),
    )


def planned(facts: ir.Table, plan: Plan) -> ir.StringValue:
    """The treatment the plan sets for each contact's (intent, channel): the exact pair first,
    then the intent on any channel, then any intent on the channel, then (*, *)."""
    checked = check_plan(plan)
    branches: list[tuple[ir.BooleanValue, ir.StringValue]] = []
    for (intent, channel), chosen in sorted(checked.items(), key=_specific_first):
        condition = ibis.literal(True)
        if intent != ANY:
            condition = condition & (facts.intent == intent)
        if channel != ANY:
            condition = condition & (facts.channel == channel)
        branches.append((condition.fill_null(False), ibis.literal(chosen)))
    if not branches:
        return ibis.null("string")
    return ibis.cases(*branches, else_=ibis.null("string"))


def compliance_counts(facts: ir.Table) -> Measures:
    """What compliance adds up from: how many contacts got each treatment."""
    got = treatment(facts)
    return {f"got_{name}": tally(got == name) for name in TREATMENTS}


def compliance(summary: ir.Table, plan: Plan, by: Sequence[str] = ()) -> ir.Table:
    """Per intent and channel (and `by`): handled contacts with a planned treatment, how many got
    each treatment, how many got the planned one, and that share. Abandoned contacts and those
    the plan says nothing about are left out. Rolled up from a summary holding
    `compliance_counts` (metrics.summarize): the plan depends only on intent and channel."""
    marked = summary.mutate(planned=planned(summary, plan))
    marked = marked.filter(marked.planned.notnull())
    group = [marked.intent, marked.channel, *summary_keys(marked, by), marked.planned]
    got = {name: marked[f"got_{name}"].sum() for name in TREATMENTS}
    contacts = got["self_serve"] + got["assisted"] + got["live"] + got["offer_digital"]
    as_planned = ibis.cases(
        *((marked.planned == name, marked[f"got_{name}"]) for name in TREATMENTS), else_=0
    ).sum()
    result = marked.group_by(group).aggregate(
        contacts=contacts,
        **got,
        compliant=as_planned,
        compliance=share(as_planned, contacts),
    )
    # Groups whose contacts were all abandoned got no treatment: not a row.
    result = result.filter(result.contacts > 0)
    return ordered(result, [key.get_name() for key in group])


def _specific_first(item: tuple[tuple[str, str], str]) -> tuple[int, str, str]:
    (intent, channel), _ = item
    return (intent == ANY) * 2 + (channel == ANY), intent, channel
