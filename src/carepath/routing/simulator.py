"""A discrete-event simulation of a contact centre that routes with the real `RoutingIndex`:
Poisson arrivals per intent and channel, sampled handle times and patience, agents with skills,
capacities and shifts. Arrivals stop at the end of the run; contacts still waiting are followed
until they are answered or abandon (or nobody is left to answer them)."""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from carepath.ids import UserId
from carepath.routing.index import RoutingIndex
from carepath.routing.model import AgentState, Presence, WorkItem
from carepath.routing.policy import next_change_at
from carepath.routing.sim_config import AgentGroup, SimulationConfig
from carepath.routing.sim_report import (
    AgentReport,
    AgentTally,
    QueueReport,
    QueueTally,
    SimulationReport,
)

HOUR = 3600.0
DAY = 24 * HOUR
Progress = Callable[[float], None]
Action = Callable[[float], None]  # what happens at an event, given its time


class Simulation:
    def __init__(self, config: SimulationConfig, *, seed: int | None = None) -> None:
        self.config = config
        self.seed = config.seed if seed is None else seed
        self.rng = random.Random(self.seed)  # noqa: S311 - a simulation, not cryptography
        self.rules = config.routing.rules()
        self.index = RoutingIndex(self.rules)
        self.end = config.duration_hours * HOUR
        self.window = (config.warmup_hours * HOUR, self.end)
        self.sl = config.service_level_seconds
        self.streams = config.arrivals
        self.handle = [s.handle_time.sampler(self.rng) for s in self.streams]
        self.patience = [
            None if s.patience is None else s.patience.sampler(self.rng) for s in self.streams
        ]
        self.rates = [[r / HOUR for r in s.hourly_rates()] for s in self.streams]
        self.steady = [min(rates) == max(rates) for rates in self.rates]
        self.queues = [QueueTally() for _ in self.streams]
        self.agents: dict[UserId, AgentTally] = {}
        self.skills: dict[UserId, frozenset[str]] = {}
        self._agent_clock: dict[UserId, tuple[float, int, int, bool]] = {}
        self._contacts: dict[str, tuple[int, float, bool]] = {}
        self._events: list[tuple[float, int, Action]] = []
        self._seq = 0

    def run(self, progress: Progress | None = None) -> SimulationReport:
        for group in self.config.agents:
            self._add_group(group)
        for stream in range(len(self.streams)):
            self._schedule_arrival(stream, 0.0)
        handled, next_tick = 0, 0.0
        while self._events:
            t, _, action = heapq.heappop(self._events)
            handled += 1
            if progress is not None and t >= next_tick:
                progress(min(1.0, t / self.end))
                next_tick = t + self.end / 100
            action(t)
        if progress is not None:
            progress(1.0)
        return self._report(handled)

    # events

    def _push(self, t: float, action: Action) -> None:
        self._seq += 1
        heapq.heappush(self._events, (t, self._seq, action))

    def _schedule_arrival(self, stream: int, t: float) -> None:
        """Piecewise-constant rates by hour of day: draw within the hour, else retry from the
        next hour (exact, because exponential gaps have no memory)."""
        rates, offset = self.rates[stream], self.config.start_hour * HOUR
        if self.steady[stream]:  # one rate all day: no hour boundaries to respect
            if rates[0] > 0:
                at = t + self.rng.expovariate(rates[0])
                if at < self.end:
                    self._push(at, partial(self._arrive, stream))
            return
        while t < self.end:
            clock = offset + t
            rate = rates[int(clock // HOUR) % 24]
            boundary = t + HOUR - clock % HOUR
            if rate > 0:
                at = t + self.rng.expovariate(rate)
                if at < boundary:
                    if at < self.end:
                        self._push(at, partial(self._arrive, stream))
                    return
            t = boundary

    def _arrive(self, stream: int, t: float) -> None:
        self._schedule_arrival(stream, t)
        spec = self.streams[stream]
        self._seq += 1
        item = WorkItem(
            item_id=f"c{self._seq}",
            skill=spec.skill,
            kind=spec.kind,
            enqueued_at=t,
            priority=spec.priority.rank,
            fallback_skill=spec.fallback_skill,
            queue=spec.queue,
        )
        counted = t >= self.window[0]
        if counted:
            self.queues[stream].offered += 1
        self._contacts[item.item_id] = (stream, t, counted)
        agent = self.index.choose_agent(item, t)
        if agent is not None:
            self.index.assign(agent, item.kind, t)
            self._start(agent, item, t)
            return
        self.index.enqueue(item, t)
        patience = self.patience[stream]
        if patience is not None:
            self._push(t + patience(), partial(self._abandon, item.item_id))
        self._schedule_review(item, t)

    def _schedule_review(self, item: WorkItem, t: float) -> None:
        at = next_change_at(item, t, self.rules)
        if at is not None:
            self._push(at, partial(self._review, item.item_id))

    def _review(self, item_id: str, t: float) -> None:
        item = self.index.get(item_id)
        if item is None:
            return
        agent = self.index.choose_agent(item, t)
        if agent is None:
            self._schedule_review(item, t)
        else:
            self.index.take(item_id, agent, t)
            self._start(agent, item, t)

    def _abandon(self, item_id: str, t: float) -> None:
        if item_id not in self.index:
            return
        self.index.remove(item_id)
        stream, _, counted = self._contacts.pop(item_id)
        if counted:
            self.queues[stream].abandoned += 1

    def _start(self, agent: UserId, item: WorkItem, t: float) -> None:
        """The agent's load already counts the item."""
        stream, arrived, counted = self._contacts.pop(item.item_id)
        self._account(agent, t, +1)
        wait = t - arrived
        done = t + self.handle[stream]()
        tally = self.queues[stream]
        if counted:
            tally.answered += 1
            tally.wait_answered_s += wait
            tally.answered_in_time += wait <= self.sl
            self.agents[agent].handled += 1
        lo, hi = self.window
        tally.handle_s += max(0.0, min(done, hi) - max(t, lo))
        self._push(done, partial(self._finish, agent, item))

    def _finish(self, agent: UserId, item: WorkItem, t: float) -> None:
        self.index.release(agent, item.kind, t)
        self._account(agent, t, -1)
        self._fill(agent, t)

    def _fill(self, agent: UserId, t: float) -> None:
        while (work := self.index.choose_work(agent, t)) is not None:
            self.index.take(work.item_id, agent, t)
            self._start(agent, work, t)

    def _shift(self, agent: UserId, online: bool, t: float) -> None:
        self._account(agent, t, 0, online=online)
        self.index.set_presence(agent, Presence.ONLINE if online else Presence.OFFLINE, t)
        if online:
            self._fill(agent, t)

    # agents

    def _add_group(self, group: AgentGroup) -> None:
        spans = _on_shift(group, self.config.start_hour * HOUR, self.end)
        for n in range(1, group.count + 1):
            agent_id = UserId(f"{group.name}-{n}")
            state = AgentState(
                agent_id=agent_id,
                skills=group.skills,
                capacity=group.capacity,
                total_capacity=-1 if group.total_capacity is None else group.total_capacity,
                presence=Presence.OFFLINE,
            )
            self.index.put_agent(state)
            self.agents[agent_id] = AgentTally(group.name)
            self.skills[agent_id] = frozenset(group.skills)
            self._agent_clock[agent_id] = (0.0, 0, state.total_capacity, False)
            for start, stop in spans:
                self._push(start, partial(self._shift, agent_id, True))
                if stop < self.end:
                    self._push(stop, partial(self._shift, agent_id, False))

    def _account(self, agent: UserId, t: float, delta: int, *, online: bool | None = None) -> None:
        """Add the time since the agent's last change to their tally, then apply the change."""
        since, load, capacity, was_online = self._agent_clock[agent]
        lo, hi = self.window
        span = max(0.0, min(t, hi) - max(since, lo))
        if span and was_online:
            tally = self.agents[agent]
            tally.staffed_s += span
            if load:
                tally.busy_s += span
                tally.load_share_s += span * load / capacity
        now_online = was_online if online is None else online
        self._agent_clock[agent] = (t, load + delta, capacity, now_online)

    def _report(self, events: int) -> SimulationReport:
        for agent in self._agent_clock:
            self._account(agent, self.end, 0)
        reports = []
        total = QueueTally()
        for spec, tally in zip(self.streams, self.queues, strict=True):
            staffed = sum(
                self.agents[a].staffed_s
                for a, skills in self.skills.items()
                if spec.skill in skills
            )
            reports.append(QueueReport.of(spec.queue, tally, self.sl, staffed))
            total.add(tally)
        staffed = sum(t.staffed_s for t in self.agents.values())
        busy = sum(t.busy_s for t in self.agents.values())
        overall = QueueReport.of("overall", total, self.sl, staffed)
        overall = replace(overall, occupancy=busy / staffed if staffed else None)
        config = self.config
        return SimulationReport(
            seed=self.seed,
            duration_hours=config.duration_hours,
            warmup_hours=config.warmup_hours,
            events=events,
            overall=overall,
            queues=reports,
            agents=[AgentReport.of(a, t) for a, t in self.agents.items()],
        )


def _on_shift(group: AgentGroup, offset: float, end: float) -> list[tuple[float, float]]:
    """The group's working time as merged [start, stop) spans of simulation seconds in [0, end]."""
    if not group.shifts:
        return [(0.0, math.inf)]
    spans = []
    for day in range(-1, int((offset + end) // DAY) + 2):
        for shift in group.shifts:
            start, stop = shift.span_s()
            a, b = day * DAY + start - offset, day * DAY + stop - offset
            if b > 0 and a < end:
                spans.append((max(a, 0.0), b))
    spans.sort()
    merged: list[tuple[float, float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def simulate(
    config: SimulationConfig, *, seed: int | None = None, progress: Progress | None = None
) -> SimulationReport:
    return Simulation(config, seed=seed).run(progress)
