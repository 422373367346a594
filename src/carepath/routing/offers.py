"""Offers: work proposed to one agent, who accepts, declines or lets it time out. A refused offer
sends the item back to the queue marked so that the same agent is not asked again."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from carepath.errors import Conflict, InvalidInput
from carepath.ids import UserId
from carepath.routing.model import ChannelKind, RoutingRules, WorkItem


class OfferOutcome(enum.StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TIMED_OUT = "timed_out"


@dataclass(frozen=True, slots=True)
class Offer:
    """An open offer holds one unit of the agent's capacity until it is answered or expires."""

    item_id: str
    agent_id: UserId
    kind: ChannelKind
    offered_at: float
    expires_at: float

    def expired(self, now: float) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True, slots=True)
class Assignment:
    item_id: str
    agent_id: UserId
    kind: ChannelKind
    assigned_at: float
    waited_s: float


def make_offer(item: WorkItem, agent_id: UserId, now: float, rules: RoutingRules) -> Offer:
    if agent_id in item.declined_by:
        raise InvalidInput(
            f"agent {agent_id} already refused {item.item_id}",
            item_id=item.item_id,
            agent_id=agent_id,
        )
    return Offer(item.item_id, agent_id, item.kind, now, now + rules.offer_timeout_s)


def accept(item: WorkItem, offer: Offer, now: float) -> Assignment:
    """The agent takes the work; too late once the offer has expired."""
    _check(item, offer)
    if offer.expired(now):
        raise Conflict(
            f"the offer of {offer.item_id} to {offer.agent_id} expired; it went back to the queue",
            code="offer_expired",
            item_id=offer.item_id,
            agent_id=offer.agent_id,
        )
    return Assignment(offer.item_id, offer.agent_id, offer.kind, now, now - item.enqueued_at)


def decline(item: WorkItem, offer: Offer) -> WorkItem:
    """The item back in the queue, keeping its age, never to be offered to this agent again."""
    _check(item, offer)
    return replace(item, declined_by=item.declined_by | {offer.agent_id})


def on_timeout(item: WorkItem, offer: Offer, now: float) -> WorkItem:
    """An unanswered offer counts as declined once it has expired."""
    if not offer.expired(now):
        raise Conflict(
            f"the offer of {offer.item_id} is open until {offer.expires_at}",
            code="offer_open",
            item_id=offer.item_id,
        )
    return decline(item, offer)


def resolve(
    item: WorkItem, offer: Offer, outcome: OfferOutcome, now: float
) -> WorkItem | Assignment:
    """One entry point for the three outcomes: an Assignment, or the item to re-queue."""
    if outcome is OfferOutcome.ACCEPTED:
        return accept(item, offer, now)
    if outcome is OfferOutcome.DECLINED:
        return decline(item, offer)
    return on_timeout(item, offer, now)


def _check(item: WorkItem, offer: Offer) -> None:
    if item.item_id != offer.item_id:
        raise InvalidInput(
            f"offer is for {offer.item_id}, not {item.item_id}", item_id=item.item_id
        )
