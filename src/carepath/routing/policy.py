"""The routing rules as pure functions over plain lists: who may take an item, who should, and which
item an agent takes next. These are the reference that `RoutingIndex` must agree with."""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence

from carepath.ids import UserId
from carepath.routing.model import AgentState, Policy, Presence, RoutingRules, WorkItem

# Primary-skill matches rank before fallback-skill matches under every policy.
PRIMARY, FALLBACK = 0, 1
AgentKey = tuple[float, ...]


def match(agent: AgentState, item: WorkItem, now: float, rules: RoutingRules) -> tuple[int, int]:
    """(tier, proficiency) by which the agent's skills qualify for the item now; tier -1 if none.

    Capacity, presence and earlier declines are not looked at here; see `eligible`.
    """
    bar = rules.min_proficiency_at(item.enqueued_at, now)
    own = agent.skills.get(item.skill, 0)
    if own >= bar:
        return PRIMARY, own
    fallback = item.fallback_skill
    if fallback is not None and rules.fallback_open_at(item.enqueued_at, now):
        other = agent.skills.get(fallback, 0)
        if other >= bar:
            return FALLBACK, other
    return -1, 0


def eligible(agent: AgentState, item: WorkItem, now: float, rules: RoutingRules) -> bool:
    """Online, with room on the item's channel kind, skilled enough now, and never declined it."""
    return (
        agent.has_room(item.kind)
        and agent.agent_id not in item.declined_by
        and match(agent, item, now, rules)[0] >= 0
    )


def held_for(
    item: WorkItem, now: float, rules: RoutingRules, online: Container[UserId]
) -> UserId | None:
    """The previous agent the item waits for: within the sticky window, while they are online
    and have not declined it. Nobody else may take a held item."""
    preferred = item.preferred_agent_id
    if (
        preferred is None
        or now >= item.enqueued_at + rules.sticky_window_s
        or preferred in item.declined_by
        or preferred not in online
    ):
        return None
    return preferred


def rank(agent: AgentState, item: WorkItem, now: float, rules: RoutingRules) -> AgentKey:
    """Sort key among eligible agents under the item's queue policy: smallest wins."""
    tier, proficiency = match(agent, item, now, rules)
    policy = rules.policy_for(item.queue_name)
    if policy is Policy.ROUND_ROBIN:
        return (tier, agent.last_assigned_at)
    if policy is Policy.LEAST_BUSY:
        return (tier, agent.total_load / agent.total_capacity, agent.idle_since)
    return (tier, -proficiency, agent.idle_since)


def choose_agent(
    item: WorkItem, agents: Iterable[AgentState], now: float, rules: RoutingRules
) -> UserId | None:
    """The agent who should get `item` now, or None to keep it waiting (one pass, no index)."""
    pool = agents if isinstance(agents, Sequence) else list(agents)
    online = {a.agent_id for a in pool if a.presence is Presence.ONLINE}
    preferred = held_for(item, now, rules, online)
    if preferred is not None:
        agent = next(a for a in pool if a.agent_id == preferred)
        return preferred if eligible(agent, item, now, rules) else None
    best: tuple[AgentKey, str] | None = None
    for agent in pool:
        if eligible(agent, item, now, rules):
            key = (rank(agent, item, now, rules), agent.agent_id)
            if best is None or key < best:
                best = key
    return None if best is None else UserId(best[1])


def choose_agent_naive(
    item: WorkItem, agents: Iterable[AgentState], now: float, rules: RoutingRules
) -> UserId | None:
    """The rules written out literally: filter, sort, take the first. The benchmark baseline and
    the oracle the index is tested against."""
    pool = list(agents)
    online = {a.agent_id for a in pool if a.presence is Presence.ONLINE}
    preferred = held_for(item, now, rules, online)
    if preferred is not None:
        agent = next(a for a in pool if a.agent_id == preferred)
        return preferred if eligible(agent, item, now, rules) else None
    candidates = [a for a in pool if eligible(a, item, now, rules)]
    candidates.sort(key=lambda a: (rank(a, item, now, rules), a.agent_id))
    return candidates[0].agent_id if candidates else None


def order_work(items: Iterable[WorkItem]) -> list[WorkItem]:
    """Priority (highest first), then SLA due time (soonest first, none last), then age."""
    return sorted(items, key=WorkItem.order_key)


def choose_work(
    agent: AgentState,
    items: Iterable[WorkItem],
    now: float,
    rules: RoutingRules,
    *,
    online: Container[UserId] = frozenset(),
) -> WorkItem | None:
    """The first item in order that `agent` may take now. `online` names the agents currently
    online, so that items held for another (online) agent are left for them."""
    for item in order_work(items):
        holder = held_for(item, now, rules, online)
        if holder is not None and holder != agent.agent_id:
            continue
        if eligible(agent, item, now, rules):
            return item
    return None


def next_change_at(item: WorkItem, now: float, rules: RoutingRules) -> float | None:
    """The next moment after `now` when the item's requirements widen or its sticky hold ends:
    when to look for an agent again if none qualifies now."""
    sticky = item.preferred_agent_id is not None
    for offset in rules.change_offsets(sticky=sticky, fallback=item.fallback_skill is not None):
        at = item.enqueued_at + offset
        if at > now:
            return at
    return None


def is_breached(item: WorkItem, now: float) -> bool:
    due = item.sla_due_at
    return due is not None and now >= due


def waited(item: WorkItem, now: float) -> float:
    return max(0.0, now - item.enqueued_at)
