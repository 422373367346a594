"""The assessment's assumptions (costs.yaml): costs per contact and per agent hour, service
targets, staffing parameters and thresholds. Whatever the file leaves out comes from the cited
defaults shipped in the package (`assessment/defaults.yaml`), shown as defaults in the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from carepath.analytics.schema import CHANNELS
from carepath.errors import InvalidInput
from carepath.yaml_config import parse_yaml


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(Strict):
    target: float = Field(gt=0, lt=1)
    seconds: float = Field(gt=0)


class Thresholds(Strict):
    self_service_fcr: float = Field(ge=0, le=1)
    assisted_fcr: float = Field(ge=0, le=1)
    self_service_containment: float = Field(ge=0, le=1)
    min_evidence: int = Field(ge=1)


class Costs(Strict):
    currency: str
    cost_per_contact: dict[str, float]
    automated_cost_per_contact: dict[str, float]
    agent_cost_per_hour: float = Field(ge=0)
    shrinkage: float = Field(ge=0, lt=1)
    service: dict[str, Target]
    patience_s: float | None = Field(default=None, gt=0)
    interval_minutes: int = Field(gt=0, le=120)
    timezone: str
    concurrency: dict[str, float]
    pools: dict[str, list[str]]
    deferred_channels: list[str]
    deferred_occupancy: float = Field(gt=0, le=1)
    default_aht_s: float = Field(gt=0)
    horizon_months: int = Field(gt=0, le=240)
    sales_intents: list[str]
    thresholds: Thresholds
    sources: dict[str, str] = Field(default_factory=dict)

    def agent_cost(self, channel: str) -> float:
        return self.cost_per_contact.get(channel, max(self.cost_per_contact.values(), default=0))

    def automated_cost(self, handled_by: str) -> float:
        return self.automated_cost_per_contact.get(handled_by, 0.0)

    def contact_cost(self, channel: str, handled_by: str) -> float:
        """What one contact costs by the per-contact figures: an agent's by channel, else the
        automated cost of its handler."""
        if handled_by == "agent":
            return self.agent_cost(channel)
        return self.automated_cost(handled_by)

    def target(self, channel: str) -> Target:
        return self.service.get(channel, Target(target=0.8, seconds=60))

    def pool_of(self, channel: str) -> str:
        """The agent pool that works the channel (a channel in no pool is its own)."""
        return next((name for name, chans in self.pools.items() if channel in chans), channel)

    def channels_of(self, pool: str) -> list[str]:
        return self.pools.get(pool, [pool])

    def deferred_pools(self) -> set[str]:
        """Pools worked from a backlog: every channel of theirs is a deferred one."""
        names = set(self.pools) | set(self.deferred_channels)
        return {
            name
            for name in names
            if all(c in self.deferred_channels for c in self.channels_of(name))
        }

    def pool_target(self, pool: str) -> Target:
        """The strictest service target among the pool's channels."""
        targets = [self.target(channel) for channel in self.channels_of(pool)]
        return Target(
            target=max(t.target for t in targets), seconds=min(t.seconds for t in targets)
        )


def _defaults_text() -> str:
    return resources.files("carepath.assessment").joinpath("defaults.yaml").read_text("utf-8")


@dataclass(frozen=True)
class Assumptions:
    """The assumptions in force, the keys the file set, and the file's own sources for them."""

    costs: Costs
    given: frozenset[str] = frozenset()
    given_sources: dict[str, str] = field(default_factory=dict)
    path: Path | None = None

    def listed(self) -> list[dict[str, Any]]:
        """Every assumption with its value and where it comes from, for the report."""
        found = []
        for key in Costs.model_fields:
            if key == "sources":
                continue
            value = getattr(self.costs, key)
            plain = _plain(value)
            if key in self.given:
                note = self.given_sources.get(key)
                source = f"{self.path}" + (f": {note}" if note else "")
            else:
                source = f"default: {self.costs.sources.get(key, 'no source given')}"
            found.append(
                {"name": key, "value": plain, "default": key not in self.given, "source": source}
            )
        return found


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def load_costs(path: Path | None = None) -> Assumptions:
    """The defaults, with whatever the file sets laid over them (maps merged key by key)."""
    data: dict[str, Any] = yaml.safe_load(_defaults_text())
    given: dict[str, Any] = {}
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from exc
        loaded = yaml.safe_load(text) if text.strip() else {}
        if not isinstance(loaded, dict):
            raise InvalidInput(f"{path}: expected a mapping of assumptions")
        given = loaded
        unknown = sorted(set(given) - set(Costs.model_fields))
        if unknown:
            raise InvalidInput(f"{path}: unknown keys {', '.join(unknown)}; see docs/assessment.md")
    own_sources = dict(given.pop("sources", None) or {})
    for key, value in given.items():
        current = data.get(key)
        # Maps merge key by key, but pools replace the default grouping whole.
        both_maps = isinstance(current, dict) and isinstance(value, dict) and key != "pools"
        data[key] = {**(current or {}), **value} if both_maps else value
    costs = parse_yaml(
        yaml.safe_dump(data, sort_keys=False),
        Costs,
        source=str(path) if path else "the default assumptions",
    )
    named = set(costs.cost_per_contact) | set(costs.service) | set(costs.concurrency)
    pooled = [channel for chans in costs.pools.values() for channel in chans]
    named |= set(pooled) | set(costs.deferred_channels)
    twice = sorted({channel for channel in pooled if pooled.count(channel) > 1})
    if twice:
        raise InvalidInput(f"channels in more than one pool: {', '.join(twice)}")
    unknown_channels = sorted(named - set(CHANNELS))
    if unknown_channels:
        raise InvalidInput(f"unknown channels {', '.join(unknown_channels)} in the assumptions")
    return Assumptions(costs, frozenset(given), own_sources, path)
