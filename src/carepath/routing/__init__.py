"""Skills-based routing: the model, the pure policy, the indexed router, offers, SLA clocks and the
simulator that drives them."""

from carepath.routing.business_hours import BusinessCalendar
from carepath.routing.index import RoutingIndex
from carepath.routing.model import (
    MAX_PROFICIENCY,
    MIN_PROFICIENCY,
    AgentState,
    ChannelKind,
    Policy,
    Presence,
    RoutingRules,
    WideningStep,
    WorkItem,
)
from carepath.routing.offers import (
    Assignment,
    Offer,
    OfferOutcome,
    accept,
    decline,
    make_offer,
    on_timeout,
    resolve,
)
from carepath.routing.policy import (
    choose_agent,
    choose_agent_naive,
    choose_work,
    eligible,
    held_for,
    is_breached,
    match,
    next_change_at,
    order_work,
    rank,
    waited,
)
from carepath.routing.sla import SlaBreach, mark_breached, sla_breaches

__all__ = [
    "MAX_PROFICIENCY",
    "MIN_PROFICIENCY",
    "AgentState",
    "Assignment",
    "BusinessCalendar",
    "ChannelKind",
    "Offer",
    "OfferOutcome",
    "Policy",
    "Presence",
    "RoutingIndex",
    "RoutingRules",
    "SlaBreach",
    "WideningStep",
    "WorkItem",
    "accept",
    "choose_agent",
    "choose_agent_naive",
    "choose_work",
    "decline",
    "eligible",
    "held_for",
    "is_breached",
    "make_offer",
    "mark_breached",
    "match",
    "next_change_at",
    "on_timeout",
    "order_work",
    "rank",
    "resolve",
    "sla_breaches",
    "waited",
]
