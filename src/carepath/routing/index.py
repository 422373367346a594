"""RoutingIndex: one tenant's agents and queued work, indexed so that each routing decision is a
few heap peeks instead of a scan. It decides exactly as the pure functions in `policy` do."""

from __future__ import annotations

from collections.abc import Iterable

from carepath.errors import NotFound
from carepath.ids import UserId
from carepath.routing.agent_pools import KIND_INDEX, AgentPools, AgentRecord
from carepath.routing.model import AgentState, ChannelKind, Presence, RoutingRules, WorkItem
from carepath.routing.policy import order_work
from carepath.routing.sla import SlaBreach
from carepath.routing.work_queue import WorkQueue


class RoutingIndex:
    """Agents and queued work of one tenant, kept indexed; not thread-safe.

    Time only moves forward here: a `now` earlier than one already seen counts as that one.
    `choose_agent` and `choose_work` only decide; `take` (or `assign` plus `remove`) commits.
    """

    def __init__(
        self,
        rules: RoutingRules,
        agents: Iterable[AgentState] = (),
        items: Iterable[WorkItem] = (),
        *,
        now: float = float("-inf"),
    ) -> None:
        self._rules = rules
        self._agents = AgentPools(rules.policies())
        self._work = WorkQueue(rules, self._holder)
        for agent in agents:
            self.put_agent(agent)
        for item in items:
            self.enqueue(item, max(now, item.enqueued_at))

    @property
    def rules(self) -> RoutingRules:
        return self._rules

    # agents

    def put_agent(self, agent: AgentState) -> None:
        """Add an agent, or replace everything known about them."""
        record = self._agents.put(agent)
        record.watch = self._work.watch_list(record)
        self._work.restage_preferring(agent.agent_id)

    def remove_agent(self, agent_id: UserId) -> None:
        self._agents.remove(agent_id)
        self._work.restage_preferring(agent_id)

    def agent(self, agent_id: UserId) -> AgentState:
        return self._agents.get(agent_id).snapshot()

    def agents(self) -> list[AgentState]:
        return [record.snapshot() for record in self._agents]

    def online(self) -> frozenset[UserId]:
        return frozenset(a.agent_id for a in self._agents if a.presence is Presence.ONLINE)

    def set_presence(self, agent_id: UserId, presence: Presence, now: float) -> None:
        now = self._work.advance(now)
        self._agents.set_presence(agent_id, Presence(presence), now)
        self._work.restage_preferring(agent_id)

    def assign(self, agent_id: UserId, kind: ChannelKind, now: float) -> None:
        """One more item of `kind` on the agent (an offer or an assignment)."""
        self._agents.assign(agent_id, kind, self._work.advance(now))

    def release(self, agent_id: UserId, kind: ChannelKind, now: float) -> None:
        """One item of `kind` finished, declined or timed out."""
        self._agents.release(agent_id, kind, self._work.advance(now))

    # work

    def enqueue(self, item: WorkItem, now: float) -> None:
        self._work.enqueue(item, now)

    def remove(self, item_id: str) -> WorkItem:
        return self._work.remove(item_id)

    def take(self, item_id: str, agent_id: UserId, now: float) -> WorkItem:
        """Commit a decision: the item leaves the queue and counts on the agent's load."""
        queued = self._work.items.get(item_id)
        if queued is None:
            raise NotFound(f"work item {item_id} is not queued", item_id=item_id)
        self.assign(agent_id, queued.item.kind, now)
        return self._work.remove(item_id)

    def get(self, item_id: str) -> WorkItem | None:
        queued = self._work.items.get(item_id)
        return None if queued is None else queued.item

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._work.items

    def __len__(self) -> int:
        return len(self._work.items)

    def queued(self) -> list[WorkItem]:
        """Queued work in work order."""
        return order_work(q.item for q in self._work)

    def pop_breaches(self, now: float) -> list[SlaBreach]:
        return self._work.pop_breaches(now)

    # decisions

    def choose_agent(self, item: WorkItem, now: float) -> UserId | None:
        """Who should get `item` now (queued or not), or None to let it wait."""
        rules = self._rules
        enqueued_at = item.enqueued_at
        bar = rules.min_proficiency_at(enqueued_at, now)
        fallback_open = rules.fallback_open_at(enqueued_at, now)
        k = KIND_INDEX[item.kind]
        holder = self._holder(item, now)
        if holder is not None:
            agent = self._agents.agents[holder]
            qualifies = _qualifies(agent, item, bar, fallback_open)
            return holder if agent.has_room(k) and qualifies else None
        policy = rules.policy_for(item.queue_name)
        declined = item.declined_by
        found = self._agents.best(policy, item.skill, k, bar, declined)
        if found is None and fallback_open and item.fallback_skill is not None:
            found = self._agents.best(policy, item.fallback_skill, k, bar, declined)
        return found

    def choose_work(self, agent_id: UserId, now: float) -> WorkItem | None:
        """What the agent should take next now, or None."""
        self._work.advance(now)
        agent = self._agents.get(agent_id)
        if agent.presence is not Presence.ONLINE:
            return None
        return self._work.best_for(agent)

    def _holder(self, item: WorkItem, now: float) -> UserId | None:
        preferred = item.preferred_agent_id
        if (
            preferred is None
            or now >= item.enqueued_at + self._rules.sticky_window_s
            or preferred in item.declined_by
        ):
            return None
        agent = self._agents.agents.get(preferred)
        if agent is None or agent.presence is not Presence.ONLINE:
            return None
        return preferred


def _qualifies(agent: AgentRecord, item: WorkItem, bar: int, fallback_open: bool) -> bool:
    if agent.skills.get(item.skill, 0) >= bar:
        return True
    fallback = item.fallback_skill
    return fallback_open and fallback is not None and agent.skills.get(fallback, 0) >= bar
