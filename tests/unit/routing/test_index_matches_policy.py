"""The index decides exactly as the pure policy does: checked on thousands of random states, and
along random sequences of assignments, releases, presence changes, arrivals and removals."""

from __future__ import annotations

import random

import pytest

from carepath.ids import UserId
from carepath.routing import (
    AgentState,
    ChannelKind,
    Presence,
    RoutingIndex,
    WorkItem,
    choose_agent,
    choose_agent_naive,
    choose_work,
)
from tests.unit.routing.factories import random_agent, random_item, random_rules


@pytest.mark.parametrize("seed", range(300))
def test_choose_agent_matches_the_naive_scan(seed: int) -> None:
    # given a random roster, random rules and an index built from them
    rng = random.Random(seed)
    rules = random_rules(rng)
    agents = [random_agent(rng, n) for n in range(rng.randint(0, 25))]
    index = RoutingIndex(rules, agents)
    ids = [a.agent_id for a in agents]
    for n in range(20):
        now = 1000.0 + rng.randint(0, 5)
        work = random_item(rng, n, ids, now)
        # when the index and both scans choose an agent for the item
        chosen = index.choose_agent(work, now)
        # then all three agree
        assert chosen == choose_agent_naive(work, agents, now, rules)
        assert chosen == choose_agent(work, agents, now, rules)


class Mirror:
    """The same state kept as plain values, to ask the pure functions."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rules = random_rules(rng)
        self.agents = {a.agent_id: a for a in (random_agent(rng, n) for n in range(12))}
        self.items: dict[str, WorkItem] = {}
        self.index = RoutingIndex(self.rules, self.agents.values())
        self.now = 1000.0
        self.serial = 0

    def online(self) -> frozenset[UserId]:
        return frozenset(a for a, s in self.agents.items() if s.presence is Presence.ONLINE)

    def step(self) -> None:
        rng, index = self.rng, self.index
        self.now += rng.choice((0.0, 1.0, 4.0, 11.0))
        now = self.now
        op = rng.randrange(9)
        ids = list(self.agents)
        if op <= 1:
            self.serial += 1
            work = random_item(rng, self.serial, ids, now)
            self.items[work.item_id] = work
            index.enqueue(work, now)
        elif op == 2 and self.items:
            gone = rng.choice(sorted(self.items))
            assert index.remove(gone) == self.items.pop(gone)
        elif op == 3 and ids:
            who, kind = rng.choice(ids), rng.choice(list(ChannelKind))
            if self.agents[who].has_room(kind):
                self.agents[who] = self.agents[who].with_assignment(kind, now)
                index.assign(who, kind, now)
        elif op == 4 and ids:
            who, kind = rng.choice(ids), rng.choice(list(ChannelKind))
            if self.agents[who].load.get(kind, 0) > 0:
                self.agents[who] = self.agents[who].with_release(kind, now)
                index.release(who, kind, now)
        elif op == 5 and ids:
            who, presence = rng.choice(ids), rng.choice(list(Presence))
            self.agents[who] = self.agents[who].with_presence(presence, now)
            index.set_presence(who, presence, now)
        elif op == 6:
            fresh = random_agent(rng, rng.randrange(16))
            self.agents[fresh.agent_id] = fresh
            index.put_agent(fresh)
        elif op == 7 and ids and rng.random() < 0.3:
            who = rng.choice(ids)
            del self.agents[who]
            index.remove_agent(who)
        else:
            self.dispatch()

    def dispatch(self) -> None:
        """Commit one decision, from an agent's side or from an item's side."""
        now = self.now
        if self.agents and self.rng.random() < 0.5:
            who = self.rng.choice(sorted(self.agents))
            taken = self.index.choose_work(who, now)
        elif self.items:
            taken = self.items[self.rng.choice(sorted(self.items))]
            chosen = self.index.choose_agent(taken, now)
            if chosen is None:
                return
            who = chosen
        else:
            return
        if taken is not None:
            self.index.take(taken.item_id, who, now)
            self.agents[who] = self.agents[who].with_assignment(taken.kind, now)
            del self.items[taken.item_id]

    def check(self) -> None:
        now, rules, online = self.now, self.rules, self.online()
        for who, state in self.agents.items():
            assert _same(self.index.agent(who), state)
            expected = choose_work(state, self.items.values(), now, rules, online=online)
            got = self.index.choose_work(who, now)
            assert (got and got.item_id) == (expected and expected.item_id), who
        for work in self.items.values():
            expected_agent = choose_agent_naive(work, self.agents.values(), now, rules)
            assert self.index.choose_agent(work, now) == expected_agent, work.item_id
        assert [i.item_id for i in self.index.queued()] == sorted(
            self.items, key=lambda i: self.items[i].order_key()
        )


def _same(a: AgentState, b: AgentState) -> bool:
    def loads(s: AgentState) -> tuple[int, ...]:
        return tuple(s.load.get(k, 0) for k in ChannelKind)

    return (a.skills, a.presence, a.idle_since, a.last_assigned_at, loads(a)) == (
        b.skills,
        b.presence,
        b.idle_since,
        b.last_assigned_at,
        loads(b),
    )


@pytest.mark.parametrize("seed", range(60))
def test_the_index_follows_the_policy_through_random_histories(seed: int) -> None:
    # given an index and a plain mirror of the same state
    mirror = Mirror(random.Random(seed))
    for _ in range(80):
        # when a random change happens (or a decision is committed)
        mirror.step()
        # then every agent's next item and every item's agent match the pure policy
        mirror.check()


@pytest.mark.parametrize("seed", range(3))
def test_the_index_stays_right_through_long_histories_and_compactions(seed: int) -> None:
    # given a long random history, long enough for stale heap entries to be compacted away
    mirror = Mirror(random.Random(1000 + seed))
    for step in range(20_000):
        mirror.step()
        # then the decisions still match the pure policy
        if step % 500 == 499:
            mirror.check()
