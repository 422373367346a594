"""The tenant configuration file's schema, and the cross-reference rules it must obey."""

from __future__ import annotations

import enum
import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from carepath.domain.cases import Priority
from carepath.domain.contacts import Channel
from carepath.routing.model import MAX_PROFICIENCY, MIN_PROFICIENCY, Policy
from carepath.tenant_config.flows import Flow, check_flows
from carepath.yaml_config import Loc, parse_yaml

NAME = r"^[a-z][a-z0-9_]{0,59}$"
Name = Annotated[str, Field(pattern=NAME)]
Proficiency = Annotated[int, Field(ge=MIN_PROFICIENCY, le=MAX_PROFICIENCY)]
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^([01]\d|2[0-4]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TreatmentKind(enum.StrEnum):
    SELF_SERVE = "self_serve"  # assistant and articles only
    ASSISTED = "assisted"  # assistant first, agent on hand-off
    LIVE = "live"  # straight to an agent
    OFFER_DIGITAL = "offer_digital"  # on the phone: offer to continue digitally


class BusinessHours(Strict):
    timezone: str = "UTC"
    weekly: dict[str, str] = Field(
        default_factory=lambda: dict.fromkeys(_DAYS[:5], "09:00-17:00"),
        description='e.g. {"mon": "09:00-17:00"}; days left out are closed',
    )
    holidays: list[str] = Field(default_factory=list, description="ISO dates")

    @field_validator("weekly")
    @classmethod
    def _weekly(cls, value: dict[str, str]) -> dict[str, str]:
        for day, hours in value.items():
            if day not in _DAYS:
                raise ValueError(f"{day!r} is not one of {', '.join(_DAYS)}")
            if not _HOURS.fullmatch(hours):
                raise ValueError(f"{day}: hours are HH:MM-HH:MM, not {hours!r}")
        return value


class Widening(Strict):
    after_s: float = Field(ge=0)
    min_proficiency: Proficiency


class Routing(Strict):
    min_proficiency: Proficiency = MIN_PROFICIENCY
    widening: list[Widening] = Field(default_factory=list)
    fallback_skill: Name | None = None
    fallback_after_s: float | None = Field(default=None, ge=0)
    sticky_window_s: float = Field(default=0, ge=0)
    offer_timeout_s: float = Field(default=30, gt=0)
    policy: Policy = Policy.BEST_SKILLED
    auto_accept: bool = Field(
        default=True,
        description="Assign routed work at once; false: offer it, to accept within offer_timeout_s",
    )


class Queue(Strict):
    name: Name
    skill: Name
    policy: Policy | None = None


class Agent(Strict):
    email: str
    skills: dict[Name, Proficiency] = Field(default_factory=dict)
    capacity: dict[str, Annotated[int, Field(ge=0, le=50)]] = Field(
        default_factory=lambda: {"messaging": 3, "voice": 1}
    )
    total_capacity: int | None = Field(default=None, ge=0, le=100)


class Intent(Strict):
    name: Name
    description: str = ""
    examples: list[str] = Field(default_factory=list)


class Row(Strict):
    """A cell of the strategy map: any field left out is inherited (see strategy.treatment_for)."""

    treatment: TreatmentKind | None = None
    skill: Name | None = None
    priority: Priority | None = None
    sla_seconds: int | None = Field(default=None, gt=0)


class IntentStrategy(Row):
    sales_opportunity: bool = False
    moment_of_truth: bool = False
    channels: dict[Channel, Row] = Field(default_factory=dict)


class DefaultRow(Strict):
    treatment: TreatmentKind = TreatmentKind.ASSISTED
    skill: Name = "general"
    priority: Priority = Priority.NORMAL
    sla_seconds: int = Field(default=3600, gt=0)


class Strategy(Strict):
    defaults: DefaultRow = Field(default_factory=DefaultRow)
    channel_defaults: dict[Channel, Row] = Field(default_factory=dict)
    intents: dict[Name, IntentStrategy] = Field(default_factory=dict)


class SavedReply(Strict):
    """A canned answer agents insert in the reply box (and edit before sending)."""

    name: str = Field(min_length=1, max_length=80)
    text: str = Field(min_length=1, max_length=2000)


class TenantConfig(Strict):
    tenant: str | None = Field(default=None, description="The slug it is for; checked on apply.")
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    channels: list[Channel] = Field(default_factory=lambda: [Channel.CHAT, Channel.EMAIL])
    skills: list[Name] = Field(default_factory=lambda: ["general"])
    queues: list[Queue] = Field(default_factory=list)
    routing: Routing = Field(default_factory=Routing)
    intents: list[Intent] = Field(default_factory=list)
    agents: list[Agent] = Field(default_factory=list)
    strategy: Strategy = Field(default_factory=Strategy)
    flows: list[Flow] = Field(default_factory=list, description="Assistant flows, by intent.")
    saved_replies: list[SavedReply] = Field(default_factory=list)


def check_config(config: TenantConfig) -> list[tuple[Loc, str]]:
    """Names must be declared before they are used; automation must respect the flags."""
    problems: list[tuple[Loc, str]] = []
    skills = set(config.skills)
    intents = {i.name for i in config.intents}

    def skill(loc: Loc, name: str | None) -> None:
        if name is not None and name not in skills:
            problems.append((loc, f"skill {name!r} is not declared under skills"))

    bar = config.routing.min_proficiency
    for i, step in enumerate(sorted(config.routing.widening, key=lambda w: w.after_s)):
        if step.min_proficiency > bar:
            problems.append(
                (("routing", "widening", i, "min_proficiency"), "widening only lowers the bar")
            )
        bar = min(bar, step.min_proficiency)
    skill(("strategy", "defaults", "skill"), config.strategy.defaults.skill)
    skill(("routing", "fallback_skill"), config.routing.fallback_skill)
    for i, queue in enumerate(config.queues):
        skill(("queues", i, "skill"), queue.skill)
    for i, agent in enumerate(config.agents):
        for name in agent.skills:
            skill(("agents", i, "skills", name), name)
        for kind in agent.capacity:
            if kind not in ("messaging", "voice"):
                problems.append((("agents", i, "capacity", kind), "capacity is messaging or voice"))
    for channel, row in config.strategy.channel_defaults.items():
        skill(("strategy", "channel_defaults", channel.value, "skill"), row.skill)
    for name, row in config.strategy.intents.items():
        loc: Loc = ("strategy", "intents", name)
        if name not in intents:
            problems.append((loc, f"intent {name!r} is not declared under intents"))
        skill((*loc, "skill"), row.skill)
        cells = [(loc, row), *(((*loc, "channels", c.value), r) for c, r in row.channels.items())]
        for cell_loc, cell in cells:
            skill((*cell_loc, "skill"), cell.skill)
            if cell.treatment is TreatmentKind.SELF_SERVE and (
                row.sales_opportunity or row.moment_of_truth
            ):
                flag = "a sales opportunity" if row.sales_opportunity else "a moment of truth"
                problems.append(
                    ((*cell_loc, "treatment"), f"{name} is {flag}: it is never fully automated")
                )
        for channel in row.channels:
            if channel not in config.channels:
                problems.append(
                    ((*loc, "channels", channel.value), f"{channel} is not among the channels")
                )
    problems.extend(check_flows(config.flows, intents))
    return problems


def parse_tenant_config(text: str, *, source: str = "<tenant config>") -> TenantConfig:
    """Validate the whole file; InvalidInput lists every problem with its line and key."""
    return parse_yaml(text, TenantConfig, source=source, checks=check_config)
