"""Routing decisions per second: RoutingIndex against the naive scans it is tested against, in the
same run, on one tenant with 1,000 agents, 50 skills and 10,000 queued items.

    .venv/bin/python benchmarks/routing.py [--agents 1000 --skills 50 --items 10000 --seconds 2]

Prints a Markdown table and writes benchmarks/results/routing.json.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from recording import run_info, write_result

from carepath.ids import UserId
from carepath.routing import (
    AgentState,
    ChannelKind,
    Presence,
    RoutingIndex,
    RoutingRules,
    WideningStep,
    WorkItem,
    choose_agent,
    choose_agent_naive,
    choose_work,
    order_work,
)

NOW = 1_000_000.0
RULES = RoutingRules(
    min_proficiency=3,
    widening=(WideningStep(30, 2), WideningStep(90, 1)),
    fallback_after_s=120,
    sticky_window_s=30,
)
MSG, VOICE = ChannelKind.MESSAGING, ChannelKind.VOICE


def build(
    agents: int, skills: int, items: int, seed: int
) -> tuple[list[AgentState], list[WorkItem]]:
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    names = [f"s{n:02d}" for n in range(skills)]
    roster = []
    for n in range(agents):
        own = {s: rng.randint(1, 5) for s in rng.sample(names, min(5, skills))}
        voice = rng.randint(0, 1)
        messaging = rng.randint(0, 3 - voice)
        roster.append(
            AgentState(
                agent_id=UserId(f"agent-{n:04d}"),
                skills=own,
                capacity={MSG: 3, VOICE: 1},
                total_capacity=3,
                load={MSG: messaging, VOICE: voice},
                presence=rng.choices(list(Presence), weights=(85, 10, 5))[0],
                idle_since=NOW - rng.uniform(0, 3600),
                last_assigned_at=NOW - rng.uniform(0, 3600),
            )
        )
    queue = [
        WorkItem(
            item_id=f"item-{n:05d}",
            skill=rng.choice(names),
            kind=MSG if rng.random() < 0.7 else VOICE,
            enqueued_at=NOW - rng.uniform(0, 300),
            priority=rng.randint(0, 3),
            sla_due_at=NOW + rng.uniform(-60, 600) if rng.random() < 0.8 else None,
            preferred_agent_id=roster[rng.randrange(agents)].agent_id
            if rng.random() < 0.05
            else None,
            fallback_skill=rng.choice(names) if rng.random() < 0.2 else None,
        )
        for n in range(items)
    ]
    return roster, queue


def rate(run: Callable[[int], object], seconds: float, limit: int) -> float:
    """Decisions per CPU second of `run(i)` over about `seconds` (at most `limit` calls).

    CPU time of this process, not wall time: on a shared machine other load would otherwise
    halve the figures at random."""
    done, start = 0, time.process_time()
    deadline = start + seconds
    while done < limit and (done % 64 or time.process_time() < deadline):
        run(done)
        done += 1
    return done / (time.process_time() - start)


def agent_for_work(
    roster: list[AgentState], queue: list[WorkItem], seconds: float
) -> dict[str, float]:
    """Who should take this item? (Read-only decisions over the queued items.)"""
    index = RoutingIndex(RULES, roster, queue, now=NOW)
    for item in queue[:200]:  # same answers before timing anything
        assert index.choose_agent(item, NOW) == choose_agent_naive(item, roster, NOW, RULES)
    n = len(queue)
    return {
        "index": rate(lambda i: index.choose_agent(queue[i % n], NOW), seconds, 10**7),
        "one-pass scan": rate(lambda i: choose_agent(queue[i], roster, NOW, RULES), seconds, n),
        "naive scan": rate(lambda i: choose_agent_naive(queue[i], roster, NOW, RULES), seconds, n),
    }


def work_for_agent(
    roster: list[AgentState], queue: list[WorkItem], seconds: float
) -> dict[str, float]:
    """What should this agent take next? (Read-only, for agents with room.)"""
    index = RoutingIndex(RULES, roster, queue, now=NOW)
    online = index.online()
    free = [a for a in roster if a.has_room(MSG) or a.has_room(VOICE)]
    ordered = order_work(queue)
    for agent in free[:50]:
        expected = choose_work(agent, ordered, NOW, RULES, online=online)
        assert index.choose_work(agent.agent_id, NOW) == expected
    n = len(free)

    def naive(i: int) -> object:
        return choose_work(free[i % n], ordered, NOW, RULES, online=online)

    return {
        "index": rate(lambda i: index.choose_work(free[i % n].agent_id, NOW), seconds, 10**7),
        "naive scan": rate(naive, seconds, 10**7),
    }


def dispatch_loop(
    roster: list[AgentState], queue: list[WorkItem], seconds: float
) -> dict[str, float]:
    """Decide and commit, as a dispatcher does: each step either a new item arrives (choose an
    agent, or queue it) or an agent finishes one item and takes the next (choose work)."""
    index = RoutingIndex(RULES, roster, queue, now=NOW)
    rng = random.Random(3)  # noqa: S311 - synthetic data, not security
    step_s = 0.01
    arrivals = [
        replace(queue[i % len(queue)], item_id=f"new-{i}", enqueued_at=NOW + (i + 1) * step_s)
        for i in range(1, 400_000, 2)
    ]
    busy = [(a.agent_id, k) for a in roster for k in (MSG, VOICE) for _ in range(a.load.get(k, 0))]
    clock = [NOW]

    def step(i: int) -> None:
        clock[0] += step_s
        now = clock[0]
        if i % 2:
            item = arrivals[i // 2]
            agent = index.choose_agent(item, now)
            if agent is None:
                index.enqueue(item, now)
            else:
                index.assign(agent, item.kind, now)
                busy.append((agent, item.kind))
        elif busy:
            agent, kind = busy.pop(rng.randrange(len(busy)))
            index.release(agent, kind, now)
            work = index.choose_work(agent, now)
            if work is not None:
                index.take(work.item_id, agent, now)
                busy.append((agent, work.kind))

    return {"index": rate(step, seconds, 2 * len(arrivals))}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--skills", type=int, default=50)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=2.0, help="timing per measurement")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    roster, queue = build(args.agents, args.skills, args.items, args.seed)
    scenarios = {
        "agent for work (choose_agent)": agent_for_work(roster, queue, args.seconds),
        "work for agent (choose_work)": work_for_agent(roster, queue, args.seconds),
        "dispatch loop (decide + commit)": dispatch_loop(roster, queue, args.seconds),
    }
    print(f"{args.agents} agents, {args.skills} skills, {args.items} queued items\n")
    print("| decision | implementation | decisions per CPU second | vs naive scan |")
    print("|---|---|---:|---:|")
    for name, rates in scenarios.items():
        naive = rates.get("naive scan")
        for implementation, value in rates.items():
            ratio = f"{value / naive:,.0f}x" if naive else "-"
            print(f"| {name} | {implementation} | {value:,.0f} | {ratio} |")
    result = {
        "benchmark": "routing",
        **run_info(),
        "parameters": vars(args),
        "decisions_per_second": scenarios,
    }
    write_result("routing", result)
    return result


if __name__ == "__main__":
    main()
