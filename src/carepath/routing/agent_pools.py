"""Agents indexed for "who should take this?": per skill, channel kind and proficiency, a heap of
the agents with room, ordered as each policy wants. Entries go stale instead of being deleted
(every change bumps the agent's version), which keeps each update to a few heap pushes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from heapq import heapify, heappop, heappush
from typing import Any

from carepath.errors import InvalidInput, NotFound
from carepath.ids import UserId
from carepath.routing.model import (
    MAX_PROFICIENCY,
    AgentState,
    ChannelKind,
    Policy,
    Presence,
)

KINDS = (ChannelKind.MESSAGING, ChannelKind.VOICE)
KIND_INDEX = {kind: i for i, kind in enumerate(KINDS)}
LEVELS = MAX_PROFICIENCY + 1  # heaps are indexed by proficiency 1..5; slot 0 stays empty

# (policy key..., agent_id, version); the key is idle_since, last_assigned_at or (share, idle).
Entry = tuple[Any, ...]
Levels = list[list[list[Entry]]]  # [kind][proficiency] -> heap


class AgentRecord:
    """The mutable twin of AgentState that the index keeps; loads are indexed by KIND_INDEX."""

    __slots__ = (
        "agent_id",
        "capacity",
        "idle_since",
        "last_assigned_at",
        "load",
        "presence",
        "skills",
        "total_capacity",
        "total_load",
        "version",
        "watch",
    )

    def __init__(self, state: AgentState) -> None:
        self.agent_id = state.agent_id
        self.skills = dict(state.skills)
        self.capacity = [state.capacity.get(kind, 0) for kind in KINDS]
        self.load = [state.load.get(kind, 0) for kind in KINDS]
        self.total_capacity = state.total_capacity
        self.total_load = sum(self.load)
        self.presence = state.presence
        self.idle_since = state.idle_since
        self.last_assigned_at = state.last_assigned_at
        self.version = 0
        # Work heaps this agent looks into when free, per kind (filled by the work queue).
        self.watch: list[list[list[Entry]]] = [[] for _ in KINDS]

    def has_room(self, k: int) -> bool:
        return (
            self.presence is Presence.ONLINE
            and self.load[k] < self.capacity[k]
            and self.total_load < self.total_capacity
        )

    def snapshot(self) -> AgentState:
        return AgentState(
            agent_id=self.agent_id,
            skills=dict(self.skills),
            capacity={kind: self.capacity[i] for i, kind in enumerate(KINDS)},
            total_capacity=self.total_capacity,
            load={kind: self.load[i] for i, kind in enumerate(KINDS) if self.load[i]},
            presence=self.presence,
            idle_since=self.idle_since,
            last_assigned_at=self.last_assigned_at,
        )


def _levels() -> Levels:
    return [[[] for _ in range(LEVELS)] for _ in KINDS]


class AgentPools:
    """Agents with room, by policy → skill → kind → proficiency."""

    def __init__(self, policies: frozenset[Policy]) -> None:
        self.agents: dict[UserId, AgentRecord] = {}
        self._versions: dict[str, int] = {}
        self._serial = itertools.count(1)
        self._policies = tuple(sorted(policies))
        self._pools: dict[Policy, dict[str, Levels]] = {p: {} for p in self._policies}
        self._pushes = 0
        self._compact_at = 4096

    def __iter__(self) -> Iterator[AgentRecord]:
        return iter(self.agents.values())

    def get(self, agent_id: UserId) -> AgentRecord:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise NotFound(f"no agent {agent_id} in the routing index", agent_id=agent_id)
        return agent

    def put(self, state: AgentState) -> AgentRecord:
        record = AgentRecord(state)
        self.agents[record.agent_id] = record
        self.reindex(record)
        return record

    def remove(self, agent_id: UserId) -> AgentRecord:
        record = self.get(agent_id)
        del self.agents[agent_id]
        del self._versions[agent_id]
        return record

    def assign(self, agent_id: UserId, kind: ChannelKind, now: float) -> AgentRecord:
        agent = self.get(agent_id)
        k = KIND_INDEX[kind]
        if not agent.has_room(k):
            raise InvalidInput(f"agent {agent_id} has no free {kind} capacity", agent_id=agent_id)
        agent.load[k] += 1
        agent.total_load += 1
        agent.idle_since = now
        agent.last_assigned_at = now
        self.reindex(agent)
        return agent

    def release(self, agent_id: UserId, kind: ChannelKind, now: float) -> AgentRecord:
        agent = self.get(agent_id)
        k = KIND_INDEX[kind]
        if agent.load[k] <= 0:
            raise InvalidInput(f"agent {agent_id} has no {kind} work to release", agent_id=agent_id)
        agent.load[k] -= 1
        agent.total_load -= 1
        if agent.total_load == 0:
            agent.idle_since = now
        self.reindex(agent)
        return agent

    def set_presence(self, agent_id: UserId, presence: Presence, now: float) -> AgentRecord:
        agent = self.get(agent_id)
        if presence is Presence.ONLINE and agent.presence is not Presence.ONLINE:
            agent.idle_since = now
        agent.presence = presence
        self.reindex(agent)
        return agent

    def reindex(self, agent: AgentRecord) -> None:
        """Stale every entry of the agent and push fresh ones where they have room."""
        agent.version = next(self._serial)
        self._versions[agent.agent_id] = agent.version
        if agent.presence is not Presence.ONLINE or agent.total_load >= agent.total_capacity:
            return
        kinds = [k for k in range(len(KINDS)) if agent.load[k] < agent.capacity[k]]
        if not kinds:
            return
        for policy in self._policies:
            entry = self._entry(policy, agent)
            by_skill = self._pools[policy]
            for skill, proficiency in agent.skills.items():
                levels = by_skill.get(skill)
                if levels is None:
                    levels = by_skill[skill] = _levels()
                for k in kinds:
                    heappush(levels[k][proficiency], entry)
            self._pushes += len(kinds) * len(agent.skills)
        if self._pushes > self._compact_at:
            self.compact()

    @staticmethod
    def _entry(policy: Policy, agent: AgentRecord) -> Entry:
        if policy is Policy.ROUND_ROBIN:
            return (agent.last_assigned_at, agent.agent_id, agent.version)
        if policy is Policy.LEAST_BUSY:
            share = agent.total_load / agent.total_capacity
            return (share, agent.idle_since, agent.agent_id, agent.version)
        return (agent.idle_since, agent.agent_id, agent.version)

    def best(
        self,
        policy: Policy,
        skill: str,
        k: int,
        bar: int,
        declined: frozenset[UserId],
    ) -> UserId | None:
        """The policy's first agent with `skill` at >= `bar` and room on kind `k`."""
        levels = self._pools[policy].get(skill)
        if levels is None:
            return None
        heaps = levels[k]
        if policy is Policy.BEST_SKILLED:
            for proficiency in range(MAX_PROFICIENCY, bar - 1, -1):
                heap = heaps[proficiency]
                if heap:
                    top = self._top(heap, declined)
                    if top is not None:
                        return UserId(top[-2])
            return None
        best: Entry | None = None
        for proficiency in range(bar, MAX_PROFICIENCY + 1):
            heap = heaps[proficiency]
            if heap:
                top = self._top(heap, declined)
                if top is not None and (best is None or top < best):
                    best = top
        return None if best is None else UserId(best[-2])

    def _top(self, heap: list[Entry], declined: frozenset[UserId]) -> Entry | None:
        """The first live entry not in `declined`; stale entries met on the way are dropped."""
        versions = self._versions
        skipped: list[Entry] = []
        found: Entry | None = None
        while heap:
            entry = heap[0]
            if versions.get(entry[-2]) != entry[-1]:
                heappop(heap)
            elif declined and entry[-2] in declined:
                skipped.append(heappop(heap))
            else:
                found = entry
                break
        for entry in skipped:
            heappush(heap, entry)
        return found

    def compact(self) -> None:
        """Drop stale entries everywhere; the heaps are cleaned in place."""
        versions = self._versions
        live = 0
        for by_skill in self._pools.values():
            for levels in by_skill.values():
                for heaps in levels:
                    for heap in heaps:
                        if heap:
                            heap[:] = [e for e in heap if versions.get(e[-2]) == e[-1]]
                            heapify(heap)
                            live += len(heap)
        self._pushes = 0
        self._compact_at = max(4096, 3 * live)
