"""What the router sees: agents (skills, capacity, load, presence), work waiting for an agent, and
the rules that decide between them. Times are float seconds on one clock (POSIX time in
production, simulated seconds in the simulator), so the index and the simulator share the code."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from carepath.domain.cases import Priority
from carepath.domain.contacts import Channel
from carepath.errors import InvalidInput
from carepath.ids import UserId

MIN_PROFICIENCY = 1
MAX_PROFICIENCY = 5


class ChannelKind(enum.StrEnum):
    """Capacity is counted per kind: an agent can hold several chats but only one call."""

    MESSAGING = "messaging"
    VOICE = "voice"

    @classmethod
    def of(cls, channel: Channel) -> ChannelKind:
        return cls.VOICE if channel is Channel.VOICE else cls.MESSAGING


class Presence(enum.StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Policy(enum.StrEnum):
    """How to pick among eligible agents (primary-skill matches always before fallback ones).

    best_skilled: highest proficiency, then longest idle. round_robin: least recently assigned.
    least_busy: lowest share of total capacity in use, then longest idle.
    """

    BEST_SKILLED = "best_skilled"
    ROUND_ROBIN = "round_robin"
    LEAST_BUSY = "least_busy"


def _check_proficiency(value: int, what: str) -> int:
    if not MIN_PROFICIENCY <= value <= MAX_PROFICIENCY:
        raise InvalidInput(
            f"{what} must be {MIN_PROFICIENCY}-{MAX_PROFICIENCY}, not {value}", field=what
        )
    return value


@dataclass(frozen=True, slots=True)
class AgentState:
    """One agent as the router sees them.

    `idle_since` is when the agent last got work, came online or went back to no work at all;
    `last_assigned_at` is when they last got work (round robin rotates on it). `total_capacity`
    defaults to the sum of the per-kind capacities.
    """

    agent_id: UserId
    skills: Mapping[str, int]
    capacity: Mapping[ChannelKind, int]
    total_capacity: int = -1
    load: Mapping[ChannelKind, int] = field(default_factory=dict)
    presence: Presence = Presence.ONLINE
    idle_since: float = 0.0
    last_assigned_at: float = -math.inf

    def __post_init__(self) -> None:
        skills = {str(s): _check_proficiency(int(p), f"skill {s}") for s, p in self.skills.items()}
        capacity = {ChannelKind(k): int(v) for k, v in self.capacity.items()}
        load = {ChannelKind(k): int(v) for k, v in self.load.items()}
        if any(v < 0 for v in (*capacity.values(), *load.values())):
            raise InvalidInput("capacity and load cannot be negative", agent_id=self.agent_id)
        total = sum(capacity.values()) if self.total_capacity < 0 else self.total_capacity
        object.__setattr__(self, "skills", skills)
        object.__setattr__(self, "capacity", capacity)
        object.__setattr__(self, "load", load)
        object.__setattr__(self, "total_capacity", total)
        object.__setattr__(self, "presence", Presence(self.presence))

    @property
    def total_load(self) -> int:
        return sum(self.load.values())

    def has_room(self, kind: ChannelKind) -> bool:
        """Online with a free slot of this kind and within the total."""
        return (
            self.presence is Presence.ONLINE
            and self.load.get(kind, 0) < self.capacity.get(kind, 0)
            and self.total_load < self.total_capacity
        )

    def with_assignment(self, kind: ChannelKind, now: float) -> AgentState:
        if not self.has_room(kind):
            raise InvalidInput(f"agent {self.agent_id} has no free {kind} capacity")
        load = {**self.load, kind: self.load.get(kind, 0) + 1}
        return replace(self, load=load, idle_since=now, last_assigned_at=now)

    def with_release(self, kind: ChannelKind, now: float) -> AgentState:
        if self.load.get(kind, 0) <= 0:
            raise InvalidInput(f"agent {self.agent_id} has no {kind} work to release")
        load = {**self.load, kind: self.load[kind] - 1}
        idle_since = now if sum(load.values()) == 0 else self.idle_since
        return replace(self, load=load, idle_since=idle_since)

    def with_presence(self, presence: Presence, now: float) -> AgentState:
        coming_online = presence is Presence.ONLINE and self.presence is not Presence.ONLINE
        return replace(
            self, presence=presence, idle_since=now if coming_online else self.idle_since
        )


@dataclass(frozen=True, slots=True)
class WorkItem:
    """Work waiting for an agent: a case or a callback.

    `priority` is a rank (higher first; see `Priority.rank`). `declined_by` lists the agents who
    declined it or let an offer time out; they are never offered it again. `queue` names the
    queue for reporting and per-queue policy; it defaults to the skill.
    """

    item_id: str
    skill: str
    kind: ChannelKind
    enqueued_at: float
    priority: int = Priority.NORMAL.rank
    sla_due_at: float | None = None
    preferred_agent_id: UserId | None = None
    fallback_skill: str | None = None
    declined_by: frozenset[UserId] = frozenset()
    queue: str | None = None
    sla_breached: bool = False

    @property
    def queue_name(self) -> str:
        return self.queue or self.skill

    def order_key(self) -> tuple[int, float, float, str]:
        """Priority, then SLA due time (none is last), then age, then id for a total order."""
        due = math.inf if self.sla_due_at is None else self.sla_due_at
        return (-self.priority, due, self.enqueued_at, self.item_id)


@dataclass(frozen=True, slots=True)
class WideningStep:
    """After waiting `after_s` seconds, agents down to `min_proficiency` qualify."""

    after_s: float
    min_proficiency: int


@dataclass(frozen=True, slots=True)
class RoutingRules:
    """The tunables of one tenant's routing.

    Widening only ever lowers the bar: the steps are sorted by time and their proficiencies must
    not rise. `sticky_window_s` is the longest a returning customer waits for their previous
    agent while that agent is online; `offer_timeout_s` how long an offer stays open.
    """

    min_proficiency: int = MIN_PROFICIENCY
    widening: tuple[WideningStep, ...] = ()
    fallback_after_s: float | None = None
    sticky_window_s: float = 0.0
    offer_timeout_s: float = 30.0
    policy: Policy = Policy.BEST_SKILLED
    queue_policies: Mapping[str, Policy] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_proficiency(self.min_proficiency, "min_proficiency")
        steps = tuple(sorted(self.widening, key=lambda s: s.after_s))
        bar = self.min_proficiency
        for step in steps:
            _check_proficiency(step.min_proficiency, "widening min_proficiency")
            if step.after_s < 0 or step.min_proficiency > bar:
                raise InvalidInput(
                    "widening steps wait zero or more seconds and only lower the proficiency",
                    field="widening",
                )
            bar = step.min_proficiency
        if self.fallback_after_s is not None and self.fallback_after_s < 0:
            raise InvalidInput("fallback_after_s cannot be negative", field="fallback_after_s")
        if self.sticky_window_s < 0 or self.offer_timeout_s <= 0:
            raise InvalidInput("sticky window >= 0 and offer timeout > 0 seconds", field="rules")
        object.__setattr__(self, "widening", steps)
        object.__setattr__(self, "policy", Policy(self.policy))
        policies = {q: Policy(p) for q, p in self.queue_policies.items()}
        object.__setattr__(self, "queue_policies", policies)

    def min_proficiency_at(self, enqueued_at: float, now: float) -> int:
        bar = self.min_proficiency
        for step in self.widening:
            if now >= enqueued_at + step.after_s:
                bar = step.min_proficiency
        return bar

    def fallback_open_at(self, enqueued_at: float, now: float) -> bool:
        after = self.fallback_after_s
        return after is not None and now >= enqueued_at + after

    def policy_for(self, queue: str) -> Policy:
        return self.queue_policies.get(queue, self.policy)

    def policies(self) -> frozenset[Policy]:
        return frozenset({self.policy, *self.queue_policies.values()})

    def change_offsets(self, *, sticky: bool, fallback: bool = True) -> tuple[float, ...]:
        """Waits (seconds after enqueueing) at which the requirements of an item with (or
        without) a preferred agent and a fallback skill can change."""
        offsets = {step.after_s for step in self.widening}
        if fallback and self.fallback_after_s is not None:
            offsets.add(self.fallback_after_s)
        if sticky and self.sticky_window_s > 0:
            offsets.add(self.sticky_window_s)
        return tuple(sorted(offsets))
