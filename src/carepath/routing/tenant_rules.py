"""A tenant's routing as the router needs it, read from its configuration file: the rules, the
business calendar for SLA clocks, queue names by skill, and whether offers are auto-accepted.

Not exported from `carepath.routing`: the configuration schema imports the routing model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from carepath.routing.business_hours import BusinessCalendar
from carepath.routing.model import RoutingRules, WideningStep
from carepath.tenant_config import TenantConfig


@dataclass(frozen=True)
class TenantRouting:
    rules: RoutingRules
    calendar: BusinessCalendar
    auto_accept: bool
    fallback_skill: str | None
    queue_by_skill: dict[str, str]

    def sla_due(self, start: datetime, sla_seconds: float) -> datetime:
        """`sla_seconds` of opening hours after `start`."""
        return self.calendar.add_business_seconds(start, sla_seconds)

    def queue_for(self, skill: str) -> str | None:
        return self.queue_by_skill.get(skill)

    def fallback_for(self, skill: str) -> str | None:
        return None if self.fallback_skill == skill else self.fallback_skill


def tenant_routing(config: TenantConfig) -> TenantRouting:
    routing = config.routing
    queue_by_skill: dict[str, str] = {}
    for queue in config.queues:
        queue_by_skill.setdefault(queue.skill, queue.name)
    rules = RoutingRules(
        min_proficiency=routing.min_proficiency,
        widening=tuple(WideningStep(w.after_s, w.min_proficiency) for w in routing.widening),
        fallback_after_s=routing.fallback_after_s if routing.fallback_skill else None,
        sticky_window_s=routing.sticky_window_s,
        offer_timeout_s=routing.offer_timeout_s,
        policy=routing.policy,
        queue_policies={q.name: q.policy for q in config.queues if q.policy is not None},
    )
    hours = config.business_hours
    calendar = (
        BusinessCalendar.weekly(hours.timezone, hours.weekly, hours.holidays)
        if hours.weekly
        # A file that lists no opening hours at all would make every SLA clock stand still.
        else BusinessCalendar.always_open(hours.timezone)
    )
    return TenantRouting(
        rules=rules,
        calendar=calendar,
        auto_accept=routing.auto_accept,
        fallback_skill=routing.fallback_skill,
        queue_by_skill=queue_by_skill,
    )
