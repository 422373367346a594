"""The simulator's configuration: arrivals per intent and channel, handle times, patience,
agents with skills, capacities and shifts, and the routing rules (docs/subsystems/routing.md)."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from carepath.domain.cases import Priority
from carepath.domain.contacts import Channel
from carepath.errors import InvalidInput
from carepath.routing.model import ChannelKind, Policy, RoutingRules, WideningStep
from carepath.yaml_config import load_yaml

Proficiency = Annotated[int, Field(ge=1, le=5)]
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Distribution(_Model):
    """A duration in seconds: exponential (mean), lognormal (mean and sd) or constant."""

    distribution: Literal["exponential", "lognormal", "constant"] = "exponential"
    mean_s: float = Field(gt=0)
    sd_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _sd_for_lognormal_only(self) -> Self:
        if (self.distribution == "lognormal") != (self.sd_s is not None):
            raise ValueError("sd_s is required for lognormal and only for lognormal")
        return self

    def sampler(self, rng: random.Random) -> Callable[[], float]:
        mean = self.mean_s
        if self.distribution == "constant":
            return lambda: mean
        if self.distribution == "lognormal":
            assert self.sd_s is not None
            sigma2 = math.log1p((self.sd_s / mean) ** 2)
            mu, sigma = math.log(mean) - sigma2 / 2, math.sqrt(sigma2)
            return lambda: rng.lognormvariate(mu, sigma)
        rate = 1.0 / mean
        return lambda: rng.expovariate(rate)


class Arrivals(_Model):
    """Poisson arrivals of one intent on one channel: a queue of the simulation."""

    intent: str = Field(min_length=1)
    channel: Channel
    skill: str = Field(min_length=1)
    fallback_skill: str | None = None
    priority: Priority = Priority.NORMAL
    rate_per_hour: float | None = Field(default=None, ge=0)
    rates_by_hour: list[Annotated[float, Field(ge=0)]] | None = Field(
        default=None, min_length=24, max_length=24
    )
    handle_time: Distribution
    patience: Distribution | None = None

    @model_validator(mode="after")
    def _one_rate(self) -> Self:
        if (self.rate_per_hour is None) == (self.rates_by_hour is None):
            raise ValueError("give rate_per_hour or rates_by_hour (24 values), not both")
        if self.channel is Channel.WEB:
            raise ValueError("web is a touchpoint without conversations; pick another channel")
        return self

    @property
    def queue(self) -> str:
        return f"{self.intent}/{self.channel}"

    @property
    def kind(self) -> ChannelKind:
        return ChannelKind.of(self.channel)

    def hourly_rates(self) -> list[float]:
        """Arrivals per hour for each hour of the day."""
        return list(self.rates_by_hour) if self.rates_by_hour else [self.rate_per_hour or 0.0] * 24


class Shift(_Model):
    """Daily working hours "HH:MM" (an end before the start runs past midnight)."""

    start: str
    end: str

    @model_validator(mode="after")
    def _times(self) -> Self:
        if clock_minutes(self.start) == clock_minutes(self.end):
            raise ValueError("a shift cannot start and end at the same time")
        return self

    def span_s(self) -> tuple[float, float]:
        """Seconds after midnight of the start and end (the end may be on the next day)."""
        start, end = clock_minutes(self.start), clock_minutes(self.end)
        return start * 60.0, (end if end > start else end + 24 * 60) * 60.0


class AgentGroup(_Model):
    """`count` identical agents named `<name>-1`, `<name>-2`…; no shifts means always on."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    count: int = Field(default=1, ge=1, le=10_000)
    skills: dict[str, Proficiency] = Field(min_length=1)
    capacity: dict[ChannelKind, Annotated[int, Field(ge=0)]] = {ChannelKind.VOICE: 1}
    total_capacity: int | None = Field(default=None, ge=1)
    shifts: list[Shift] = []


class Widening(_Model):
    after_s: float = Field(ge=0)
    min_proficiency: Proficiency


class RoutingSpec(_Model):
    policy: Policy = Policy.BEST_SKILLED
    queue_policies: dict[str, Policy] = {}
    min_proficiency: Proficiency = 1
    widening: list[Widening] = []
    fallback_after_s: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _valid_rules(self) -> Self:
        try:
            self.rules()
        except InvalidInput as exc:
            raise ValueError(exc.message) from None
        return self

    def rules(self) -> RoutingRules:
        return RoutingRules(
            min_proficiency=self.min_proficiency,
            widening=tuple(WideningStep(w.after_s, w.min_proficiency) for w in self.widening),
            fallback_after_s=self.fallback_after_s,
            policy=self.policy,
            queue_policies=dict(self.queue_policies),
        )


class SimulationConfig(_Model):
    seed: int = 1
    duration_hours: float = Field(gt=0)
    warmup_hours: float = Field(default=0.0, ge=0)
    start_hour: float = Field(default=0.0, ge=0, lt=24)
    service_level_seconds: float = Field(default=20.0, ge=0)
    routing: RoutingSpec = RoutingSpec()
    arrivals: list[Arrivals] = Field(min_length=1)
    agents: list[AgentGroup] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.warmup_hours >= self.duration_hours:
            raise ValueError("warmup_hours must be shorter than duration_hours")
        names = [g.name for g in self.agents]
        if len(set(names)) != len(names):
            raise ValueError("agent group names must be unique")
        queues = [a.queue for a in self.arrivals]
        if len(set(queues)) != len(queues):
            raise ValueError("each intent/channel pair may appear once in arrivals")
        unknown = set(self.routing.queue_policies) - set(queues)
        if unknown:
            raise ValueError(f"queue_policies name unknown queues {sorted(unknown)}")
        skills = {s for g in self.agents for s in g.skills}
        for arrival in self.arrivals:
            if arrival.skill not in skills and arrival.fallback_skill not in skills:
                raise ValueError(f"no agent has skill {arrival.skill!r} for {arrival.queue}")
        return self


def clock_minutes(text: str) -> int:
    found = _CLOCK.fullmatch(text.strip())
    if found is None or int(found[1]) > 24 or int(found[2]) > 59:
        raise ValueError(f"{text!r} is not a time of day HH:MM")
    return int(found[1]) * 60 + int(found[2])


def load_config(path: Path | str) -> SimulationConfig:
    return load_yaml(path, SimulationConfig)
