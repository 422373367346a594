"""Offers (accept, decline, time out and re-queue elsewhere) and SLA breach detection."""

from __future__ import annotations

import pytest

from carepath.errors import Conflict, InvalidInput
from carepath.ids import UserId
from carepath.routing import (
    Assignment,
    OfferOutcome,
    RoutingIndex,
    RoutingRules,
    accept,
    decline,
    make_offer,
    mark_breached,
    on_timeout,
    resolve,
    sla_breaches,
)
from tests.unit.routing.factories import MSG, agent, item

RULES = RoutingRules(offer_timeout_s=20)
ANN, BOB = UserId("ann"), UserId("bob")


def test_an_accepted_offer_becomes_an_assignment_with_the_wait() -> None:
    # given an item queued at 100 and offered at 130
    work = item("x", at=100)
    offer = make_offer(work, ANN, 130, RULES)
    assert offer.expires_at == 150
    # when the agent accepts in time
    assignment = accept(work, offer, 140)
    # then the item is theirs, having waited 40 s
    assert assignment == Assignment("x", ANN, MSG, 140, 40)


def test_an_offer_accepted_too_late_is_refused() -> None:
    work = item("x", at=100)
    offer = make_offer(work, ANN, 130, RULES)
    with pytest.raises(Conflict) as raised:
        accept(work, offer, 150)
    assert raised.value.code == "offer_expired"


def test_a_timed_out_offer_goes_to_someone_else() -> None:
    # given the best agent was offered the item and let it expire
    index = RoutingIndex(RULES, [agent("ann", {"billing": 5}), agent("bob", {"billing": 2})])
    work = item("x", at=100)
    index.enqueue(work, 100)
    assert index.choose_agent(work, 100) == ANN
    index.take("x", ANN, 100)
    offer = make_offer(work, ANN, 100, RULES)
    # when the offer times out: it cannot before it expires, it can after
    with pytest.raises(Conflict):
        on_timeout(work, offer, 119)
    again = on_timeout(work, offer, 120)
    index.release(ANN, MSG, 120)
    index.enqueue(again, 120)
    # then the item keeps its age, and goes to the other agent, never back to ann
    assert again.enqueued_at == 100
    assert again.declined_by == {ANN}
    assert index.choose_agent(again, 120) == BOB
    assert index.choose_work(ANN, 120) is None
    with pytest.raises(InvalidInput):
        make_offer(again, ANN, 120, RULES)


def test_resolve_dispatches_each_outcome() -> None:
    work = item("x", at=0)
    offer = make_offer(work, ANN, 0, RULES)
    assert isinstance(resolve(work, offer, OfferOutcome.ACCEPTED, 5), Assignment)
    assert resolve(work, offer, OfferOutcome.DECLINED, 5) == decline(work, offer)
    assert resolve(work, offer, OfferOutcome.TIMED_OUT, 20) == decline(work, offer)


def test_breaches_are_reported_once_when_the_sla_comes_due() -> None:
    # given two queued items due at 50 and 80, and one without an SLA
    items = [item("a", due=50), item("b", due=80), item("c")]
    # then at 60 only the first is breached, and once marked it is not reported again
    assert [b.item_id for b in sla_breaches(items, 60)] == ["a"]
    assert sla_breaches([mark_breached(items[0]), *items[1:]], 60) == []


def test_the_index_reports_breaches_of_queued_work_once() -> None:
    # given an index with two queued items due at 50 and 80
    index = RoutingIndex(RULES, [], [item("a", due=50), item("b", due=80)], now=0)
    # when time passes
    first = index.pop_breaches(60)
    # then the first is reported once, the second when due, a removed one never
    assert [(b.item_id, b.due_at, b.detected_at) for b in first] == [("a", 50, 60)]
    assert index.pop_breaches(70) == []
    index.remove("b")
    assert index.pop_breaches(100) == []
    # and an item re-queued after its breach is not reported twice
    breached = index.remove("a")
    assert breached.sla_breached
    index.enqueue(breached, 110)
    assert index.pop_breaches(120) == []
