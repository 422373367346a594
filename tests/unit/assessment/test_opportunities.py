"""Opportunities and the draft strategy map on the hand-built input, worked out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from carepath.assessment import assess, load_costs
from carepath.domain.contacts import Channel
from carepath.tenant_config import parse_tenant_config, treatment_for
from tests.unit.analytics.builders import by_key, contact
from tests.unit.assessment.hand_built import STANDING, intake, write

COSTS = """
cost_per_contact: {voice: 6, email: 4, chat: 3, web: 3}
automated_cost_per_contact: {self_service: 0.5, assistant: 1.0}
thresholds: {self_service_fcr: 0.8, assisted_fcr: 0.5, min_evidence: 1}
"""
# The input spans 10 hours, counted as one day: figures per month are times 365.25 / 12.
PER_MONTH = 365.25 / 12


def run(tmp_path: Path, extra: str = "") -> dict[str, Any]:
    costs = write(tmp_path / "costs.yaml", COSTS + extra)
    return assess(intake(STANDING), load_costs(costs))


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run(tmp_path_factory.mktemp("opportunities"))


def test_ranked_by_savings_potential(summary: dict[str, Any]) -> None:
    found = by_key(summary["opportunities"], "intent")
    billing = found["billing"]
    # billing: 4 contacts, all agent (k4, k6, k7 on voice at 6; k5 by email at 4)
    assert billing["contacts"] == 4
    assert billing["cost_per_month"] == pytest.approx((3 * 6 + 4) * PER_MONTH)
    # digital evidence: the email k5, resolved (no repeat) → digital FCR 1.0 ≥ 0.8
    assert (billing["digital_fcr"], billing["digital_evidence"]) == (1.0, 1)
    assert billing["recommendation"] == "self_service"
    # 4 agent contacts, times (22 / 4 per contact - 0.5 self-service), times FCR 1.0, a month
    assert billing["potential_per_month"] == pytest.approx(4 * PER_MONTH * (5.5 - 0.5))
    # returns: the web self-service k1 was followed by a call → digital FCR 0 → keep live
    assert found["returns"]["recommendation"] == "keep_live"
    assert found["returns"]["potential_per_month"] == 0
    # order_status: contained by the assistant (FCR 1.0) but no agent contact to move
    assert found["order_status"]["recommendation"] == "self_service"
    assert found["order_status"]["potential_per_month"] == 0
    # ranked by potential, then by contacts
    assert [o["intent"] for o in summary["opportunities"]] == [
        "billing",
        "returns",
        "order_status",
    ]
    assert [o["rank"] for o in summary["opportunities"]] == [1, 2, 3]


def test_a_sales_opportunity_is_never_fully_automated(tmp_path: Path) -> None:
    summary = run(tmp_path, "sales_intents: [billing]\n")

    billing = by_key(summary["opportunities"], "intent")["billing"]
    assert billing["recommendation"] == "assisted_digital"
    assert billing["sales_opportunity"] is True
    # assisted digital: no assistant containment measured for billing → a chat agent at 3
    assert billing["potential_per_month"] == pytest.approx(4 * PER_MONTH * (5.5 - 3))
    config = parse_tenant_config(summary["strategy_map_yaml"])
    assert config.strategy.intents["billing"].sales_opportunity is True
    assert treatment_for(config, "billing", Channel.EMAIL).kind.value == "assisted"


def test_the_draft_strategy_map_is_a_valid_tenant_config(summary: dict[str, Any]) -> None:
    text = summary["strategy_map_yaml"]

    config = parse_tenant_config(text)

    assert {intent.name for intent in config.intents} == {"billing", "returns", "order_status"}
    assert treatment_for(config, "billing", Channel.VOICE).kind.value == "offer_digital"
    assert treatment_for(config, "billing", Channel.EMAIL).kind.value == "self_serve"
    assert treatment_for(config, "returns", Channel.WEB).kind.value == "live"
    # every channel of the input is declared
    assert set(yaml.safe_load(text)["channels"]) == {"web", "voice", "chat", "email"}


def test_self_service_needs_an_assistant_that_contains_the_intent(tmp_path: Path) -> None:
    # given a billing chat the assistant took part in but handed to an agent (containment 0)
    rows = [*STANDING, contact("k8", "c9", 6, "chat", assistant=True, handle_s=50)]
    costs = write(tmp_path / "costs.yaml", COSTS)

    summary = assess(intake(rows), load_costs(costs))

    billing = by_key(summary["opportunities"], "intent")["billing"]
    # digital contacts k5 and k8 both resolved (FCR 1.0), but with agents
    assert (billing["digital_fcr"], billing["containment"]) == (1.0, 0.0)
    assert billing["recommendation"] == "assisted_digital"
    assert "contains only 0%" in billing["reason"]
    # 5 agent contacts at (18 + 4 + 3) / 5 = 5.0 each, moved to a chat agent at 3 (nothing
    # contained), times FCR 1.0
    assert billing["potential_per_month"] == pytest.approx(5 * PER_MONTH * (5.0 - 3))
