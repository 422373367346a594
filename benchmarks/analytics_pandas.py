"""The pandas implementation of benchmarks/analytics.py: the straightforward way (a merge for
the follow-ups, vectorised group-bys)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from analytics_common import (
    CHANNELS,
    DIGITAL,
    FCR_DAYS,
    GROUPS,
    HOURS,
    LEVEL_S,
    PLAN,
    Options,
    Rows,
    Suite,
    records,
)


def run_pandas(path: Path, _options: Options) -> tuple[float, Callable[[], Suite]]:
    import pandas as pd

    started = time.perf_counter()
    df = pd.read_parquet(path)
    loaded = time.perf_counter() - started

    def compute() -> Suite:
        facts = _pandas_facts(df)
        facts["period"] = (
            (facts.started_at.dt.tz_localize(None).dt.normalize())
            .dt.to_period("W")
            .dt.start_time.dt.date
        )
        suite = {f"scorecard_by_{g}": _pandas_scorecard(facts, [g]) for g in GROUPS}
        suite["scorecard_by_channel_week"] = _pandas_scorecard(facts, ["channel", "period"])
        weekly = facts.assign(digital=facts.channel != "voice").groupby("period")
        share = weekly.agg(contacts=("digital", "size"), digital_contacts=("digital", "sum"))
        share["digital_share"] = share.digital_contacts / share.contacts
        suite["digital_share"] = records(share.reset_index())
        suite["movement"] = _pandas_movement(facts)
        suite["compliance"] = _pandas_compliance(facts)
        return suite

    return loaded, compute


def _pandas_facts(df: Any) -> Any:
    import pandas as pd

    first = df[["contact_id", "customer_id", "started_at", "intent"]]
    later = df[["customer_id", "started_at", "intent", "channel"]].rename(
        columns={
            "started_at": "started_at_next",
            "intent": "intent_next",
            "channel": "channel_next",
        }
    )
    pairs = first.merge(later, on="customer_id")
    after = pairs.started_at_next - pairs.started_at
    pairs = pairs[(after > pd.Timedelta(0)) & (after <= pd.Timedelta(days=FCR_DAYS))]
    after = pairs.started_at_next - pairs.started_at
    soon = after <= pd.Timedelta(hours=HOURS)
    same_intent = (
        pairs.intent.isna() | pairs.intent_next.isna() | (pairs.intent == pairs.intent_next)
    )
    flags = pd.DataFrame({"contact_id": pairs.contact_id, "repeat": same_intent, "followed": soon})
    for c in CHANNELS:
        flags[f"next_{c}"] = soon & (pairs.channel_next == c)
    flags = flags.groupby("contact_id").any()
    facts = df.merge(flags, left_on="contact_id", right_index=True, how="left")
    for name in flags.columns:
        facts[name] = facts[name].fillna(False).astype(bool)
    return facts


def _pandas_scorecard(facts: Any, keys: list[str]) -> Rows:
    queued = facts.wait_s.notna()
    f = facts.assign(
        counted=~facts.abandoned,
        resolved=~facts.abandoned & ~facts.repeat,
        involved=facts.assistant_involved,
        contained=facts.assistant_involved & (facts.handled_by == "assistant"),
        verified=facts.assistant_involved & (facts.handled_by == "assistant") & ~facts.followed,
        offered=queued,
        answered=queued & ~facts.abandoned,
        dropped=queued & facts.abandoned,
        agent_handle=facts.handle_s.where(facts.handled_by == "agent"),
        answered_wait=facts.wait_s.where(queued & ~facts.abandoned),
        in_level=queued & ~facts.abandoned & (facts.wait_s <= LEVEL_S),
        satisfied=facts.csat >= 4,
        promoter=facts.nps >= 9,
        detractor=facts.nps <= 6,
        digital=facts.channel != "voice",
    )
    g = f.groupby(keys, dropna=False).agg(
        contacts=("contact_id", "size"),
        fcr_contacts=("counted", "sum"),
        fcr_resolved=("resolved", "sum"),
        assistant_contacts=("involved", "sum"),
        contained=("contained", "sum"),
        verified_contained=("verified", "sum"),
        offered=("offered", "sum"),
        answered=("answered", "sum"),
        abandoned=("dropped", "sum"),
        aht_s=("agent_handle", "mean"),
        asa_s=("answered_wait", "mean"),
        in_level=("in_level", "sum"),
        csat_responses=("csat", "count"),
        satisfied=("satisfied", "sum"),
        nps_responses=("nps", "count"),
        promoters=("promoter", "sum"),
        detractors=("detractor", "sum"),
        ces_responses=("ces", "count"),
        ces=("ces", "mean"),
        digital_contacts=("digital", "sum"),
    )
    out = g.assign(
        fcr=g.fcr_resolved / g.fcr_contacts.where(g.fcr_contacts > 0),
        repeat_rate=(g.fcr_contacts - g.fcr_resolved) / g.fcr_contacts.where(g.fcr_contacts > 0),
        containment=g.contained / g.assistant_contacts.where(g.assistant_contacts > 0),
        verified_containment=g.verified_contained
        / g.assistant_contacts.where(g.assistant_contacts > 0),
        service_level=g.in_level / g.offered.where(g.offered > 0),
        abandonment=g.abandoned / g.offered.where(g.offered > 0),
        csat=g.satisfied / g.csat_responses.where(g.csat_responses > 0),
        nps=(g.promoters - g.detractors) * 100 / g.nps_responses.where(g.nps_responses > 0),
        digital_share=g.digital_contacts / g.contacts,
    ).drop(columns=["in_level", "satisfied", "promoters", "detractors"])
    return records(out.reset_index().sort_values(keys, na_position="last"))


def _pandas_movement(facts: Any) -> Rows:
    wide = facts.groupby("channel")[[f"next_{c}" for c in CHANNELS]].sum()
    wide["contacts"] = facts.groupby("channel").size()
    long = wide.reset_index().melt(
        id_vars=["channel", "contacts"], var_name="to_channel", value_name="moved"
    )
    long["to_channel"] = long.to_channel.str.removeprefix("next_")
    long["share"] = long.moved / long.contacts
    long = long.rename(columns={"channel": "from_channel"}).sort_values(
        ["from_channel", "to_channel"]
    )
    return records(long[["from_channel", "to_channel", "contacts", "moved", "share"]])


def _pandas_compliance(facts: Any) -> Rows:
    import numpy as np

    digital_next = facts[[f"next_{c}" for c in DIGITAL]].any(axis=1)
    treatment = np.select(
        [
            facts.abandoned,
            (facts.channel == "voice") & (facts.handled_by != "agent") & digital_next,
            facts.handled_by != "agent",
            facts.assistant_involved,
        ],
        ["", "offer_digital", "self_serve", "assisted"],
        default="live",
    )
    specific = sorted(PLAN.items(), key=lambda kv: (kv[0][0] == "*") * 2 + (kv[0][1] == "*"))
    conditions = [
        ((facts.intent == i) if i != "*" else True) & ((facts.channel == c) if c != "*" else True)
        for (i, c), _ in specific
    ]
    planned = np.select(
        [np.asarray(c, dtype=bool) & np.ones(len(facts), bool) for c in conditions],
        [t for _, t in specific],
        default="",
    )
    marked = facts.assign(treatment=treatment, planned=planned)
    marked = marked[(marked.treatment != "") & (marked.planned != "")]
    marked = marked.assign(
        compliant=marked.treatment == marked.planned,
        **{t: marked.treatment == t for t in ("self_serve", "assisted", "live", "offer_digital")},
    )
    g = marked.groupby(["intent", "channel", "planned"], dropna=False).agg(
        contacts=("contact_id", "size"),
        self_serve=("self_serve", "sum"),
        assisted=("assisted", "sum"),
        live=("live", "sum"),
        offer_digital=("offer_digital", "sum"),
        compliant=("compliant", "sum"),
    )
    g["compliance"] = g.compliant / g.contacts
    out = g.reset_index().sort_values(["intent", "channel", "planned"], na_position="last")
    return records(out)
