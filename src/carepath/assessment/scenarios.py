"""The business case of migration scenarios: new volumes per channel and interval → agents
needed per interval (Erlang C, or Erlang A with a patience, from `carepath.staffing`, plus
shrinkage; backlog channels by workload) → cost per month, savings, ROI, payback month and the
cost of waiting. docs/assessment.md, "The scenario model", states every assumption."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from carepath.analytics.suite import Row
from carepath.assessment.costs import Costs
from carepath.assessment.scenario_model import Scenario
from carepath.assessment.workload import AGENT, Week
from carepath.staffing import agents_for_service_level

WEEKS_PER_MONTH = 365.25 / 12 / 7


@dataclass(frozen=True)
class HandleTimes:
    """AHT by (intent, channel), by channel, and a default: the analytics' own AHT figures."""

    by_intent_channel: dict[tuple[str | None, str], float]
    by_channel: dict[str, float]
    default: float

    @classmethod
    def from_scorecards(
        cls, by_intent_channel: Sequence[Row], by_channel: Sequence[Row], default: float
    ) -> HandleTimes:
        return cls(
            {(r["intent"], r["channel"]): r["aht_s"] for r in by_intent_channel if r["aht_s"]},
            {r["channel"]: r["aht_s"] for r in by_channel if r["aht_s"]},
            default,
        )

    def of(self, channel: str, intent: str | None, fallback: str | None = None) -> float:
        """The intent's AHT on the channel, else the channel's, else the intent's on
        `fallback` (where moved contacts came from), else the default."""
        found = self.by_intent_channel.get((intent, channel)) or self.by_channel.get(channel)
        if found is None and fallback is not None:
            found = self.by_intent_channel.get((intent, fallback))
        return found or self.default


@dataclass
class Plan:
    """One week's staffing and a month's cost of a workload."""

    agents: dict[str, list[float]]  # agents on duty per pool and interval (before shrinkage)
    agent_hours_per_month: dict[str, float]  # per pool; paid: on-duty hours / (1 - shrinkage)
    contacts_per_month: dict[str, float]
    automated_per_month: dict[str, float]
    cost_per_month: dict[str, float]

    @property
    def total_cost(self) -> float:
        return sum(self.cost_per_month.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "contacts_per_month": self.contacts_per_month,
            "automated_per_month": self.automated_per_month,
            "agent_hours_per_month": self.agent_hours_per_month,
            "peak_agents": {c: max(v, default=0) for c, v in self.agents.items()},
            "agents_per_interval": self.agents,
            "cost_per_month": self.cost_per_month,
            "total_cost_per_month": self.total_cost,
        }


@dataclass
class Staffer:
    """Turns a week of workload into agents per interval and paid hours; Erlang answers are
    cached, since most intervals of most channels are the same in every scenario.

    Shrinkage is applied to the week's hours, not interval by interval: it is an average share
    of paid time (breaks, training, absence), and rounding it up in every interval would charge
    a small queue twice over."""

    costs: Costs
    handle_times: HandleTimes
    _cache: dict[tuple[str, float, float], int] = field(default_factory=dict)

    def plan(self, week: Week, origins: dict[tuple[str, str | None], str] | None = None) -> Plan:
        origins = origins or {}
        interval_s = week.interval_minutes * 60.0
        slots = week.slots
        counts: dict[str, list[float]] = {}  # agent contacts per pool and interval
        work: dict[str, list[float]] = {}  # agent seconds per pool and interval
        channel_work: dict[str, float] = {}
        cost = dict.fromkeys(week.channels(), 0.0)
        automated = dict.fromkeys(week.channels(), 0.0)
        for (channel, intent, kind), values in week.cells.items():
            if kind != AGENT:
                cost[channel] += sum(values) * WEEKS_PER_MONTH * self.costs.automated_cost(kind)
                automated[channel] += sum(values) * WEEKS_PER_MONTH
                continue
            pool = self.costs.pool_of(channel)
            aht = self.handle_times.of(channel, intent, origins.get((channel, intent)))
            if pool not in self.costs.deferred_pools():
                aht /= self.costs.concurrency.get(channel, 1.0)
            pool_counts = counts.setdefault(pool, [0.0] * slots)
            pool_work = work.setdefault(pool, [0.0] * slots)
            for slot, count in enumerate(values):
                pool_counts[slot] += count
                pool_work[slot] += count * aht
            channel_work[channel] = channel_work.get(channel, 0.0) + sum(values) * aht
        agents: dict[str, list[float]] = {}
        hours: dict[str, float] = {}
        for pool in sorted(counts):
            agents[pool] = [
                self._agents(pool, count, load, interval_s)
                for count, load in zip(counts[pool], work[pool], strict=True)
            ]
            on_duty = sum(agents[pool]) * interval_s / 3600 * WEEKS_PER_MONTH
            hours[pool] = on_duty / (1 - self.costs.shrinkage)
            # A pool's cost falls on its channels by their share of its work.
            pool_total = sum(work[pool]) or 1.0
            for channel, seconds in channel_work.items():
                if self.costs.pool_of(channel) == pool:
                    share = seconds / pool_total
                    cost[channel] += hours[pool] * self.costs.agent_cost_per_hour * share
        contacts = {channel: week.total(channel) * WEEKS_PER_MONTH for channel in week.channels()}
        return Plan(agents, hours, contacts, automated, cost)

    def _agents(self, pool: str, count: float, load_s: float, interval_s: float) -> float:
        if count <= 0:
            return 0.0
        costs = self.costs
        if pool in costs.deferred_pools():
            return load_s / (interval_s * costs.deferred_occupancy)
        aht = load_s / count
        rate = count / interval_s
        key = (pool, round(rate, 12), round(aht, 6))
        if key not in self._cache:
            target = costs.pool_target(pool)
            needed = agents_for_service_level(
                target.target, rate, aht, target.seconds, costs.patience_s
            )
            self._cache[key] = needed.agents
        return float(self._cache[key])


def contained_today(week: Week, intent: str, channel: str) -> float | None:
    """The share of the intent's contacts on the channel finished without an agent, if any."""
    total = sum(sum(v) for (c, i, _w), v in week.cells.items() if c == channel and i == intent)
    if not total:
        return None
    agent = sum(week.cells.get((channel, intent, AGENT), []))
    return 1 - agent / total


def run_scenario(
    scenario: Scenario, baseline_week: Week, baseline: Plan, staffer: Staffer
) -> dict[str, Any]:
    """The scenario's volumes, staffing and money against the baseline."""
    week = baseline_week.copy()
    origins: dict[tuple[str, str | None], str] = {}
    applied = []
    for shift in scenario.shifts:
        contained = shift.contained
        if contained is None:
            today = contained_today(baseline_week, shift.intent, shift.target)
            contained = today if today is not None else (1.0 if shift.target == "web" else 0.0)
        automated_by = "self_service" if shift.target == "web" else "assistant"
        moved = week.shift(shift, contained, automated_by)
        origins.setdefault((shift.target, shift.intent), shift.source)
        applied.append(
            {
                **shift.model_dump(by_alias=True),
                "contained": contained,
                "moved_per_month": moved * WEEKS_PER_MONTH,
            }
        )
    plan = staffer.plan(week, origins)
    savings = baseline.total_cost - plan.total_cost
    net = savings - scenario.run_cost_per_month
    horizon = staffer.costs.horizon_months
    investment = scenario.investment
    return {
        "name": scenario.name,
        "shifts": applied,
        "investment": investment,
        "run_cost_per_month": scenario.run_cost_per_month,
        **plan.as_dict(),
        "savings_per_month": savings,
        "net_savings_per_month": net,
        "roi": None if investment == 0 else (net * horizon - investment) / investment,
        "horizon_months": horizon,
        "payback_month": payback_month(investment, net),
        "cost_of_waiting_per_month": net,
        "cumulative": [net * month - investment for month in range(horizon + 1)],
    }


def payback_month(investment: float, net_per_month: float) -> int | None:
    """The first month whose cumulative net savings cover the investment; None if never."""
    if net_per_month <= 0:
        return None
    return math.ceil(round(investment / net_per_month, 9))
