"""Which intents to move: per intent, its volume, cost per contact and how well digital and
self-service resolve it today, ranked, with a recommendation (self-service, assisted digital or
keep live) and the sales opportunities flagged."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from carepath.analytics.suite import Row
from carepath.assessment.costs import Costs

SELF_SERVICE, ASSISTED, LIVE = "self_service", "assisted_digital", "keep_live"


def _digital_or_automated(row: Row) -> bool:
    """Evidence of digital resolution: a contact on a digital channel, or one finished without
    an agent on any channel (the phone menu included)."""
    return bool(row["channel"] != "voice" or row["handled_by"] != "agent")


def opportunities(
    by_intent_channel_handler: Sequence[Row],
    by_intent: Sequence[Row],
    costs: Costs,
    per_month: float,
) -> list[dict[str, Any]]:
    """One entry per intent (contacts without one are left out), best opportunity first."""
    cells: dict[str, list[Row]] = defaultdict(list)
    for row in by_intent_channel_handler:
        if row["intent"] is not None:
            cells[row["intent"]].append(row)
    containment = {r["intent"]: r["containment"] for r in by_intent if r["intent"] is not None}
    found = [
        _intent(intent, found_rows, containment.get(intent), costs, per_month)
        for intent, found_rows in cells.items()
    ]
    found.sort(key=lambda o: (-o["potential_per_month"], -o["contacts"], o["intent"]))
    for rank, entry in enumerate(found, start=1):
        entry["rank"] = rank
    return found


def _intent(
    intent: str, cells: list[Row], containment: float | None, costs: Costs, per_month: float
) -> dict[str, Any]:
    contacts = sum(r["contacts"] for r in cells)
    agent = [r for r in cells if r["handled_by"] == "agent"]
    agent_contacts = sum(r["contacts"] for r in agent)
    evidence = [r for r in cells if _digital_or_automated(r)]
    tried = sum(r["fcr_contacts"] for r in evidence)
    resolved = sum(r["fcr_resolved"] for r in evidence)
    digital_fcr = resolved / tried if tried else None
    cost_today = sum(
        r["contacts"] * costs.contact_cost(r["channel"], r["handled_by"]) for r in cells
    )
    agent_cost = sum(r["contacts"] * costs.agent_cost(r["channel"]) for r in agent)
    sales = intent in costs.sales_intents
    recommendation, reason = _recommend(digital_fcr, tried, containment, sales, costs)
    per_agent_contact = agent_cost / agent_contacts if agent_contacts else 0.0
    target_cost = _target_cost(recommendation, containment, costs)
    saving_each = max(per_agent_contact - target_cost, 0.0)
    potential = agent_contacts * per_month * saving_each * (digital_fcr or 0.0)
    return {
        "intent": intent,
        "contacts": contacts,
        "contacts_per_month": contacts * per_month,
        "agent_contacts_per_month": agent_contacts * per_month,
        "digital_share": sum(r["contacts"] for r in cells if r["channel"] != "voice") / contacts,
        "digital_fcr": digital_fcr,
        "digital_evidence": tried,
        "containment": containment,
        "cost_per_month": cost_today * per_month,
        "recommendation": recommendation,
        "reason": reason,
        "sales_opportunity": sales,
        "potential_per_month": potential if recommendation != LIVE else 0.0,
    }


def _recommend(
    fcr: float | None, evidence: int, containment: float | None, sales: bool, costs: Costs
) -> tuple[str, str]:
    limits = costs.thresholds
    if fcr is None or evidence < limits.min_evidence:
        return LIVE, f"too little digital or self-service evidence ({evidence} contacts)"
    if fcr >= limits.self_service_fcr:
        if sales:
            return ASSISTED, f"resolves well digitally (FCR {fcr:.0%}) but is a sales opportunity"
        if containment is not None and containment < limits.self_service_containment:
            # Digital contacts resolve it, but with agents: the assistant alone does not.
            return ASSISTED, (
                f"digital FCR {fcr:.0%}, but the assistant contains only {containment:.0%}"
            )
        return SELF_SERVICE, f"digital FCR {fcr:.0%} ≥ {limits.self_service_fcr:.0%}"
    if fcr >= limits.assisted_fcr:
        return ASSISTED, f"digital FCR {fcr:.0%} ≥ {limits.assisted_fcr:.0%}"
    return LIVE, f"digital FCR {fcr:.0%} < {limits.assisted_fcr:.0%}"


def _target_cost(recommendation: str, containment: float | None, costs: Costs) -> float:
    """What a moved contact costs: self-service's automated cost; assisted digital, the
    assistant for the share it contains today and a chat agent for the rest."""
    if recommendation == SELF_SERVICE:
        return costs.automated_cost("self_service")
    contained = containment or 0.0
    return contained * costs.automated_cost("assistant") + (1 - contained) * costs.agent_cost(
        "chat"
    )
