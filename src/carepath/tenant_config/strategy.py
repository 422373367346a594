"""The contact strategy map's one function: how an intent is served on a channel.

The router, the assistant and the phone menu all ask `treatment_for`; nothing else reads the
strategy map, so they can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from carepath.domain.cases import Priority
from carepath.domain.contacts import Channel
from carepath.tenant_config.model import Row, TenantConfig, TreatmentKind

__all__ = ["Treatment", "TreatmentKind", "treatment_for"]


@dataclass(frozen=True)
class Treatment:
    kind: TreatmentKind
    skill: str
    priority: Priority
    sla_seconds: int
    sales_opportunity: bool
    moment_of_truth: bool
    # Which rows decided it, most specific last: for "why was this routed there?"
    source: tuple[str, ...]


def treatment_for(config: TenantConfig, intent: str | None, channel: Channel) -> Treatment:
    """Defaults, then the channel's defaults, then the intent's row, then the intent-by-channel
    cell; each layer overrides only what it sets. Unknown or missing intents get the defaults.
    Moments of truth are routed at high priority or above (never lower)."""
    base = config.strategy.defaults
    kind, skill, priority, sla = base.treatment, base.skill, base.priority, base.sla_seconds
    source = ["defaults"]
    layers: list[tuple[str, Row]] = []
    if channel in config.strategy.channel_defaults:
        layers.append(
            (f"channel_defaults.{channel.value}", config.strategy.channel_defaults[channel])
        )
    row = config.strategy.intents.get(intent) if intent else None
    if row is not None:
        layers.append((f"intents.{intent}", row))
        if channel in row.channels:
            layers.append((f"intents.{intent}.channels.{channel.value}", row.channels[channel]))
    for name, layer in layers:
        kind = layer.treatment or kind
        skill = layer.skill or skill
        priority = layer.priority or priority
        sla = layer.sla_seconds or sla
        source.append(name)
    sales = bool(row and row.sales_opportunity)
    moment = bool(row and row.moment_of_truth)
    if (sales or moment) and kind is TreatmentKind.SELF_SERVE:
        kind = TreatmentKind.ASSISTED  # inherited from a default row: still never fully automated
    if moment and priority.rank < Priority.HIGH.rank:
        priority = Priority.HIGH
    return Treatment(
        kind=kind,
        skill=skill,
        priority=priority,
        sla_seconds=sla,
        sales_opportunity=sales,
        moment_of_truth=moment,
        source=tuple(source),
    )
