"""Scenario staffing and money on a one-week workload small enough to work out by hand."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from carepath.assessment import assess, load_costs, load_scenarios, parse_shift
from carepath.assessment.scenario_model import Scenario
from carepath.assessment.scenarios import payback_month
from carepath.errors import InvalidInput
from tests.unit.assessment.hand_built import WORKLOAD, intake, write

COSTS = """
agent_cost_per_hour: 20
shrinkage: 0.2
deferred_occupancy: 0.5
interval_minutes: 30
service: {voice: {target: 0.8, seconds: 20}}
horizon_months: 36
"""
WEEKS_PER_MONTH = 365.25 / 12 / 7
# Erlang C by hand, Monday 09:00-09:30 (1800 s), AHT 300 s, 80% within 20 s:
# - 2 calls: A = 1/3. One agent: C = A = 1/3, SL = 1 - (1/3) e^(-(1 - 1/3) 20/300) = 0.681, too
#   low; two: B = (A^2/2) / (1 + A + A^2/2) = 0.04, C = 2B / (2 - A(1 - B)) = 0.0476,
#   SL = 1 - 0.0476 e^(-(2 - 1/3) 20/300) = 0.957 → 2 agents.
# - 1 call: A = 1/6, C = 1/6, SL = 1 - (1/6) e^(-(5/6) 20/300) = 0.842 → 1 agent.


def monthly_cost(agents: float) -> float:
    """Agents on duty one half-hour a week → paid hours a month (shrinkage 0.2) at 20 an hour."""
    return agents * 0.5 / (1 - 0.2) * WEEKS_PER_MONTH * 20


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    costs = write(tmp_path_factory.mktemp("scenarios") / "costs.yaml", COSTS)
    scenario = Scenario(
        name="half the billing calls by email",
        shifts=[parse_shift("billing:voice>email:50%:0%")],
        investment=100,
    )
    return assess(intake(WORKLOAD), load_costs(costs), [scenario])


def test_baseline_staffing_and_cost(summary: dict[str, Any]) -> None:
    baseline = summary["baseline"]
    assert baseline["peak_agents"] == {"voice": 2.0, "backlog": pytest.approx(600 / 900)}
    # voice: 2 agents; email (backlog): 600 s of work / (1800 s at 0.5 occupancy) = 2/3 agent
    assert baseline["cost_per_month"]["voice"] == pytest.approx(monthly_cost(2))
    assert baseline["cost_per_month"]["email"] == pytest.approx(monthly_cost(2 / 3))
    assert baseline["contacts_per_month"]["voice"] == pytest.approx(2 * WEEKS_PER_MONTH)


def test_shift_volumes_staffing_and_money(summary: dict[str, Any]) -> None:
    (scenario,) = summary["scenarios"]
    # half of the 2 weekly billing calls move to email, none contained: 1 call, 2 emails
    assert scenario["shifts"][0]["moved_per_month"] == pytest.approx(WEEKS_PER_MONTH)
    assert scenario["contacts_per_month"]["voice"] == pytest.approx(WEEKS_PER_MONTH)
    assert scenario["contacts_per_month"]["email"] == pytest.approx(2 * WEEKS_PER_MONTH)
    # voice needs 1 agent; email 2 emails of 600 s / 900 s = 4/3 of an agent
    assert scenario["peak_agents"] == {"voice": 1.0, "backlog": pytest.approx(1200 / 900)}
    before = monthly_cost(2) + monthly_cost(2 / 3)
    after = monthly_cost(1) + monthly_cost(4 / 3)
    savings = before - after
    assert scenario["total_cost_per_month"] == pytest.approx(after)
    assert scenario["savings_per_month"] == pytest.approx(savings)
    assert scenario["cost_of_waiting_per_month"] == pytest.approx(savings)
    assert scenario["payback_month"] == math.ceil(100 / savings)
    assert scenario["roi"] == pytest.approx((savings * 36 - 100) / 100)
    assert scenario["cumulative"][0] == -100
    assert scenario["cumulative"][36] == pytest.approx(savings * 36 - 100)


def test_payback_month() -> None:
    assert payback_month(100, 25) == 4
    assert payback_month(100, 30) == 4
    assert payback_month(0, 10) == 0
    assert payback_month(100, 0) is None
    assert payback_month(100, -5) is None


def test_shift_flags() -> None:
    shift = parse_shift("card_lost:voice>chat:30%:50%")
    assert (shift.intent, shift.source, shift.target) == ("card_lost", "voice", "chat")
    assert shift.share == pytest.approx(0.3)
    assert shift.contained == pytest.approx(0.5)
    assert parse_shift("x:voice>web:10%").contained is None
    with pytest.raises(InvalidInput, match="INTENT:FROM>TO"):
        parse_shift("card_lost voice chat")
    with pytest.raises(InvalidInput, match="unknown channel"):
        parse_shift("card_lost:voice>fax:30%")


def test_the_example_scenarios_file_is_valid() -> None:
    examples = Path(__file__).resolve().parents[3] / "examples"
    scenarios = load_scenarios(examples / "assessment-scenarios.yaml")
    assert len(scenarios) == 2
    assert all(s.investment > 0 for s in scenarios)
    assumptions = load_costs(examples / "assessment-costs.yaml")
    assert "agent_cost_per_hour" in assumptions.given
