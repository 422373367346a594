"""Builders for routing tests: readable agents and items, and random states for oracle tests."""

from __future__ import annotations

import random
from collections.abc import Sequence

from carepath.ids import UserId
from carepath.routing import (
    AgentState,
    ChannelKind,
    Policy,
    Presence,
    RoutingRules,
    WideningStep,
    WorkItem,
)

MSG, VOICE = ChannelKind.MESSAGING, ChannelKind.VOICE
SKILLS = ("billing", "returns", "cards", "loans", "fraud", "travel")
QUEUES = ("q1", "q2", None)


def agent(
    name: str,
    skills: dict[str, int] | None = None,
    *,
    messaging: int = 3,
    voice: int = 1,
    total: int = -1,
    load: dict[ChannelKind, int] | None = None,
    presence: Presence = Presence.ONLINE,
    idle_since: float = 0.0,
    last_assigned_at: float = 0.0,
) -> AgentState:
    return AgentState(
        agent_id=UserId(name),
        skills=skills if skills is not None else {"billing": 3},
        capacity={MSG: messaging, VOICE: voice},
        total_capacity=total,
        load=load or {},
        presence=presence,
        idle_since=idle_since,
        last_assigned_at=last_assigned_at,
    )


def item(
    name: str,
    skill: str = "billing",
    *,
    kind: ChannelKind = MSG,
    at: float = 0.0,
    priority: int = 1,
    due: float | None = None,
    preferred: str | None = None,
    fallback: str | None = None,
    declined: tuple[str, ...] = (),
    queue: str | None = None,
) -> WorkItem:
    return WorkItem(
        item_id=name,
        skill=skill,
        kind=kind,
        enqueued_at=at,
        priority=priority,
        sla_due_at=due,
        preferred_agent_id=None if preferred is None else UserId(preferred),
        fallback_skill=fallback,
        declined_by=frozenset(UserId(d) for d in declined),
        queue=queue,
    )


def random_rules(rng: random.Random) -> RoutingRules:
    top = bar = rng.randint(1, 5)
    steps = []
    after = 0.0
    for _ in range(rng.randint(0, 3)):
        after += rng.choice((5.0, 10.0, 30.0))
        bar = rng.randint(1, bar)
        steps.append(WideningStep(after, bar))
    return RoutingRules(
        min_proficiency=top,
        widening=tuple(steps),
        fallback_after_s=rng.choice((None, 0.0, 20.0, 45.0)),
        sticky_window_s=rng.choice((0.0, 15.0, 60.0)),
        policy=rng.choice(list(Policy)),
        queue_policies={"q1": rng.choice(list(Policy))} if rng.random() < 0.5 else {},
    )


def random_agent(rng: random.Random, n: int) -> AgentState:
    skills = {s: rng.randint(1, 5) for s in rng.sample(SKILLS, rng.randint(1, 3))}
    messaging, voice = rng.randint(0, 3), rng.randint(0, 1)
    load = {MSG: rng.randint(0, messaging), VOICE: rng.randint(0, voice)}
    return AgentState(
        agent_id=UserId(f"a{n}"),
        skills=skills,
        capacity={MSG: messaging, VOICE: voice},
        total_capacity=rng.choice((-1, 1, 2, 3)),
        load=load,
        presence=rng.choices(list(Presence), weights=(6, 1, 1))[0],
        # few distinct times, so that ties (broken by agent id) are common
        idle_since=float(rng.randint(0, 4)),
        last_assigned_at=float(rng.randint(0, 4)),
    )


def random_item(rng: random.Random, n: int, agent_ids: Sequence[str], now: float) -> WorkItem:
    def some_agent() -> str:
        return rng.choice(agent_ids) if agent_ids and rng.random() < 0.9 else "nobody"

    return item(
        f"i{n}",
        rng.choice(SKILLS),
        kind=rng.choice((MSG, VOICE)),
        at=now - rng.choice((0.0, 3.0, 12.0, 40.0, 100.0)),
        priority=rng.randint(0, 3),
        due=rng.choice((None, now + rng.randint(-5, 50))),
        preferred=some_agent() if rng.random() < 0.3 else None,
        fallback=rng.choice(SKILLS) if rng.random() < 0.4 else None,
        declined=tuple(some_agent() for _ in range(rng.randint(0, 2))),
        queue=rng.choice(QUEUES),
    )
