"""Each routing rule on its own, through the pure functions and the index alike."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from carepath.errors import InvalidInput
from carepath.ids import UserId
from carepath.routing import (
    AgentState,
    Policy,
    Presence,
    RoutingIndex,
    RoutingRules,
    WideningStep,
    WorkItem,
    choose_agent,
    choose_work,
    next_change_at,
    order_work,
)
from tests.unit.routing.factories import MSG, VOICE, agent, item

NOW = 100.0
RULES = RoutingRules()


def both(
    work: WorkItem, agents: Sequence[AgentState], rules: RoutingRules = RULES, now: float = NOW
) -> UserId | None:
    """The pure function's choice, after checking that the index makes the same one."""
    chosen = choose_agent(work, agents, now, rules)
    assert RoutingIndex(rules, agents).choose_agent(work, now) == chosen
    return chosen


def test_only_online_agents_with_the_skill_and_room_on_the_channel_are_candidates() -> None:
    # given agents who are each ruled out for one reason, and one who qualifies
    agents = [
        agent("away", presence=Presence.AWAY),
        agent("offline", presence=Presence.OFFLINE),
        agent("unskilled", {"returns": 5}),
        agent("calls-full", voice=1, load={VOICE: 1}),
        agent("total-full", messaging=3, voice=1, total=2, load={MSG: 2}),
        agent("ok", {"billing": 1}),
    ]
    # when a call needs billing
    # then only the online, skilled agent with a free voice slot and total room gets it
    assert both(item("call", kind=VOICE), agents) == "ok"
    # and with nobody left it waits
    assert both(item("call", kind=VOICE), agents[:-1]) is None


def test_chats_fill_up_to_the_messaging_capacity() -> None:
    # given an agent with two of three chats
    busy = agent("ann", messaging=3, load={MSG: 2})
    # then a third chat still goes to them, a fourth does not
    assert both(item("chat"), [busy]) == "ann"
    assert both(item("chat"), [busy.with_assignment(MSG, NOW)]) is None


def test_highest_proficiency_wins_then_longest_idle_then_id() -> None:
    # given two experts and a novice who has been idle longest
    agents = [
        agent("novice", {"billing": 2}, idle_since=0.0),
        agent("expert-b", {"billing": 5}, idle_since=50.0),
        agent("expert-a", {"billing": 5}, idle_since=20.0),
    ]
    # then the expert idle longest wins
    assert both(item("x"), agents) == "expert-a"
    # and between equally idle experts the id decides, for a stable choice
    tied = [agent("expert-z", {"billing": 5}), agent("expert-y", {"billing": 5})]
    assert both(item("x"), tied) == "expert-y"


def test_round_robin_rotates_by_last_assignment_regardless_of_proficiency() -> None:
    # given round robin, and an expert who just got work
    rules = RoutingRules(policy=Policy.ROUND_ROBIN)
    agents = [
        agent("expert", {"billing": 5}, last_assigned_at=90.0),
        agent("novice", {"billing": 1}, last_assigned_at=10.0),
    ]
    # then the agent assigned longest ago gets the next item
    assert both(item("x"), agents, rules) == "novice"


def test_least_busy_prefers_the_lowest_share_of_capacity_in_use() -> None:
    # given least busy, one agent at 2 of 3 and one at 1 of 3
    rules = RoutingRules(policy=Policy.LEAST_BUSY)
    agents = [
        agent("busier", {"billing": 5}, load={MSG: 2}),
        agent("freer", {"billing": 1}, load={MSG: 1}, idle_since=80.0),
    ]
    # then the agent with more room gets it
    assert both(item("x"), agents, rules) == "freer"


def test_the_policy_is_chosen_per_queue() -> None:
    # given best-skilled by default and round robin on the "sales" queue
    rules = RoutingRules(queue_policies={"sales": Policy.ROUND_ROBIN})
    agents = [
        agent("expert", {"billing": 5}, last_assigned_at=90.0),
        agent("novice", {"billing": 1}, last_assigned_at=10.0),
    ]
    # then each queue follows its own policy
    assert both(item("support"), agents, rules) == "expert"
    assert both(item("sale", queue="sales"), agents, rules) == "novice"


def test_the_requirement_widens_as_the_wait_passes_each_step() -> None:
    # given proficiency 4 required, 3 after 30 s, 1 after 60 s; only a level-2 agent is free
    rules = RoutingRules(min_proficiency=4, widening=(WideningStep(30, 3), WideningStep(60, 1)))
    agents = [agent("junior", {"billing": 2})]
    work = item("x", at=NOW)
    # then nobody qualifies at first or after 30 s, the junior after 60 s
    assert both(work, agents, rules, now=NOW) is None
    assert both(work, agents, rules, now=NOW + 30) is None
    assert both(work, agents, rules, now=NOW + 60) == "junior"
    # and the next moments to look again are the steps
    assert next_change_at(work, NOW, rules) == NOW + 30
    assert next_change_at(work, NOW + 30, rules) == NOW + 60
    assert next_change_at(work, NOW + 60, rules) is None


def test_the_fallback_skill_is_accepted_after_its_wait_and_only_after_primary_matches() -> None:
    # given a fallback skill accepted after 45 s
    rules = RoutingRules(fallback_after_s=45)
    cards_expert = agent("cards", {"cards": 5})
    work = item("x", "fraud", at=NOW, fallback="cards")
    # then the fallback agent is not used before 45 s, and is after
    assert both(work, [cards_expert], rules, now=NOW + 44) is None
    assert both(work, [cards_expert], rules, now=NOW + 45) == "cards"
    # and an agent with the primary skill, even a weak one, still comes first
    fraud_novice = agent("fraud", {"fraud": 1})
    assert both(work, [cards_expert, fraud_novice], rules, now=NOW + 45) == "fraud"


def test_agents_who_refused_the_item_are_skipped() -> None:
    # given the best agent declined this item before
    agents = [agent("best", {"billing": 5}), agent("next", {"billing": 3})]
    work = item("x", declined=("best",))
    # then the next one gets it
    assert both(work, agents) == "next"


class TestSticky:
    rules = RoutingRules(sticky_window_s=60)
    expert = agent("expert", {"billing": 5})

    def test_the_previous_agent_wins_over_a_better_one_within_the_window(self) -> None:
        previous = agent("previous", {"billing": 1})
        work = item("x", at=NOW, preferred="previous")
        assert both(work, [self.expert, previous], self.rules) == "previous"

    def test_the_item_waits_for_a_busy_previous_agent_until_the_window_ends(self) -> None:
        # given the previous agent is online but full
        previous = agent("previous", {"billing": 1}, messaging=1, load={MSG: 1})
        work = item("x", at=NOW, preferred="previous")
        agents = [self.expert, previous]
        # then within the window nobody else takes it, after it the best agent does
        assert both(work, agents, self.rules, now=NOW + 59) is None
        assert both(work, agents, self.rules, now=NOW + 60) == "expert"
        # and a free expert does not pick it from the queue meanwhile
        online = {self.expert.agent_id, previous.agent_id}
        assert choose_work(self.expert, [work], NOW + 59, self.rules, online=online) is None
        assert choose_work(previous.with_release(MSG, NOW), [work], NOW, self.rules) == work

    def test_nobody_waits_for_an_absent_previous_agent_or_one_who_declined(self) -> None:
        away = agent("previous", {"billing": 1}, presence=Presence.AWAY)
        work = item("x", at=NOW, preferred="previous")
        assert both(work, [self.expert, away], self.rules) == "expert"
        online = agent("previous", {"billing": 1})
        refused = item("x", at=NOW, preferred="previous", declined=("previous",))
        assert both(refused, [self.expert, online], self.rules) == "expert"


def test_work_is_ordered_by_priority_then_sla_due_time_then_age() -> None:
    # given items that differ in one criterion at a time
    items = [
        item("old-normal", at=1, priority=1),
        item("urgent", at=9, priority=3),
        item("due-soon", at=8, priority=1, due=50),
        item("due-later", at=7, priority=1, due=60),
        item("new-normal", at=5, priority=1),
    ]
    # then the order is priority, then due time (none last), then age
    assert [i.item_id for i in order_work(items)] == [
        "urgent",
        "due-soon",
        "due-later",
        "old-normal",
        "new-normal",
    ]


def test_a_freed_agent_takes_the_first_item_they_are_eligible_for() -> None:
    # given a queue whose most urgent item needs a skill the agent lacks
    me = agent("me", {"billing": 3})
    items = [
        item("urgent-fraud", "fraud", priority=3),
        item("billing-old", at=1),
        item("billing-call", kind=VOICE, at=0),
    ]
    rules = RoutingRules()
    # when the agent frees up with a chat slot but no call slot
    me = agent("me", {"billing": 3}, voice=1, load={VOICE: 1})
    # then they take the oldest billing chat, in the index too
    assert choose_work(me, items, NOW, rules) == items[1]
    index = RoutingIndex(rules, [me], items, now=NOW)
    assert index.choose_work(me.agent_id, NOW) == items[1]


def test_taking_work_moves_it_from_the_queue_to_the_agents_load() -> None:
    # given an index with one agent and one chat
    index = RoutingIndex(RULES, [agent("ann", messaging=1)], [item("x")], now=NOW)
    # when the decision is committed
    assert index.choose_work(UserId("ann"), NOW) is not None
    index.take("x", UserId("ann"), NOW)
    # then the queue is empty and the agent is full
    assert len(index) == 0
    assert index.agent(UserId("ann")).load == {MSG: 1}
    assert index.choose_agent(item("y"), NOW) is None


def test_bad_rosters_and_rules_are_refused() -> None:
    with pytest.raises(InvalidInput):
        agent("x", {"billing": 6})
    with pytest.raises(InvalidInput):
        RoutingRules(min_proficiency=2, widening=(WideningStep(10, 3),))
    with pytest.raises(InvalidInput):
        agent("x", messaging=1, load={MSG: 1}).with_assignment(MSG, NOW)
