"""Erlang C and Erlang A against published worked examples and independent computations."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from carepath.errors import InvalidInput
from carepath.staffing import (
    agents_for_service_level,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    scheduled_positions,
)


def exact_erlang_c(agents: int, traffic: Fraction) -> Fraction:
    """The textbook formula in exact rational arithmetic: an oracle that cannot overflow."""
    top = traffic**agents / math.factorial(agents) * agents / (agents - traffic)
    rest = sum(traffic**k / math.factorial(k) for k in range(agents))
    return top / (rest + top)


def test_the_call_centre_helper_worked_example() -> None:
    """Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example"
    (callcentrehelper.com): 100 calls in 30 minutes, AHT 180 s, target 80% answered in 20 s.
    Traffic is 10 Erlangs; 11 agents give a probability of waiting of 0.6821; 13 agents fall
    just short (79.6%), 14 agents meet it (88.8%); with 30% shrinkage 20 must be scheduled.
    Every figure is also recomputed below with exact fractions."""
    rate = 100 / 1800
    eleven = erlang_c_metrics(11, rate, 180, 20)
    assert eleven.traffic_erlangs == pytest.approx(10)
    assert eleven.probability_of_waiting == pytest.approx(0.6821, abs=5e-5)
    assert eleven.probability_of_waiting == pytest.approx(float(exact_erlang_c(11, Fraction(10))))
    assert eleven.asa_s == pytest.approx(0.6821 * 180 / 1, abs=0.1)
    assert erlang_c_metrics(13, rate, 180, 20).service_level == pytest.approx(0.7956, abs=5e-5)
    fourteen = erlang_c_metrics(14, rate, 180, 20)
    assert fourteen.service_level == pytest.approx(0.8884, abs=5e-5)
    assert fourteen.asa_s == pytest.approx(7.84, abs=5e-3)
    assert fourteen.occupancy == pytest.approx(10 / 14)
    needed = agents_for_service_level(0.8, rate, 180, 20)
    assert needed.agents == 14
    assert scheduled_positions(needed.agents, 0.3) == 20


def test_the_mitan_worked_example() -> None:
    """Mitan, "The Erlang-C formula" (mitan.co.uk), worked step by step for 360 calls per half
    hour, 4-minute calls, 55 agents and a 15 s target. Its results, recomputed independently with
    exact fractions: traffic 48 Erlangs, occupancy 87.3%, probability of waiting 0.2387, ASA
    8.2 s, service level 84.6%."""
    result = erlang_c_metrics(55, 360 / 1800, 240, 15)
    exact = exact_erlang_c(55, Fraction(48))
    assert result.traffic_erlangs == pytest.approx(48)
    assert result.occupancy == pytest.approx(0.873, abs=5e-4)
    assert result.probability_of_waiting == pytest.approx(float(exact), rel=1e-12)
    assert result.probability_of_waiting == pytest.approx(0.2387, abs=5e-5)
    assert result.asa_s == pytest.approx(8.2, abs=0.05)
    assert result.service_level == pytest.approx(0.846, abs=5e-4)


@pytest.mark.parametrize(("agents", "traffic"), [(500, 480), (501, 350), (1000, 990)])
def test_hundreds_of_agents_stay_exact(agents: int, traffic: int) -> None:
    # given sizes where traffic**agents / agents! overflows a float
    with pytest.raises(OverflowError):
        _ = float(traffic) ** agents
    # then the log-space results match exact rational arithmetic
    exact = float(exact_erlang_c(agents, Fraction(traffic)))
    assert erlang_c(agents, traffic) == pytest.approx(exact, rel=1e-10)
    assert 0 < erlang_b(agents, traffic) < 1


def test_erlang_c_at_or_over_capacity_never_answers_in_time() -> None:
    result = erlang_c_metrics(10, 10 / 180, 180, 20)
    assert (result.probability_of_waiting, result.service_level) == (1.0, 0.0)
    assert math.isinf(result.asa_s)


def palm_oracle(
    agents: int, rate: float, aht: float, patience: float, t: float
) -> tuple[float, float, float, float]:
    """M/M/n+M worked out independently: the stationary birth-death distribution, abandonment
    by rate balance (theta E[Q] / lambda), the tagged caller's chance of service within t by
    integrating its backward equations (RK4), and its expected wait by first-step analysis.
    Returns (P(wait), abandonment, service level, ASA of answered)."""
    mu, theta = 1 / aht, 1 / patience
    size = agents + 150
    weights = [1.0]
    for j in range(1, size):
        weights.append(weights[-1] * rate / (min(j, agents) * mu + max(0, j - agents) * theta))
    total = sum(weights)
    pi = [w / total for w in weights]
    waiting = sum(pi[agents:])
    queue = sum((j - agents) * p for j, p in enumerate(pi) if j > agents)
    abandonment = theta * queue / rate
    positions = size - agents

    def advance(i: int) -> float:  # position i moves up when someone is served or ahead leaves
        return agents * mu + (i - 1) * theta

    def derivative(f: list[float]) -> list[float]:
        out = [0.0] * len(f)
        for i in range(1, len(f)):
            out[i] = advance(i) * (f[i - 1] - f[i]) - theta * f[i]
        return out

    f = [1.0] + [0.0] * positions
    steps = 400
    h = t / steps
    for _ in range(steps):
        k1 = derivative(f)
        k2 = derivative([x + h / 2 * d for x, d in zip(f, k1, strict=True)])
        k3 = derivative([x + h / 2 * d for x, d in zip(f, k2, strict=True)])
        k4 = derivative([x + h * d for x, d in zip(f, k3, strict=True)])
        f = [
            x + h / 6 * (a + 2 * b + 2 * c + d)
            for x, a, b, c, d in zip(f, k1, k2, k3, k4, strict=True)
        ]
        f[0] = 1.0
    served, wait_served = [1.0], [0.0]
    for i in range(1, positions + 1):
        out = advance(i) + theta
        served.append(advance(i) / out * served[-1])
        wait_served.append(advance(i) / out * (served[-2] / out + wait_served[-1]))
    within = sum(pi[:agents]) + sum(pi[agents + k - 1] * f[k] for k in range(1, positions))
    asa = sum(pi[agents + k - 1] * wait_served[k] for k in range(1, positions)) / (1 - abandonment)
    return waiting, abandonment, within, asa


@pytest.mark.parametrize(
    ("agents", "calls_per_hour", "patience"),
    [(5, 90, 60), (5, 120, 120), (12, 220, 300), (3, 100, 30)],
)
def test_erlang_a_matches_an_independent_solution_of_the_palm_queue(
    agents: int, calls_per_hour: float, patience: float
) -> None:
    # given small queues, under and over capacity, with impatient callers
    rate, aht, t = calls_per_hour / 3600, 180.0, 20.0
    result = erlang_a_metrics(agents, rate, aht, patience, t)
    waiting, abandonment, within, asa = palm_oracle(agents, rate, aht, patience, t)
    # then every figure matches the independent computation
    assert result.probability_of_waiting == pytest.approx(waiting, rel=1e-9)
    assert result.abandonment == pytest.approx(abandonment, rel=1e-9)
    assert result.service_level == pytest.approx(within, rel=1e-6)
    assert result.asa_s == pytest.approx(asa, rel=1e-9)
    assert result.occupancy == pytest.approx(rate * aht * (1 - abandonment) / agents)


def test_erlang_a_becomes_erlang_c_as_patience_grows() -> None:
    c = erlang_c_metrics(14, 100 / 1800, 180, 20)
    a = erlang_a_metrics(14, 100 / 1800, 180, 1e9, 20)
    assert a.probability_of_waiting == pytest.approx(c.probability_of_waiting, rel=1e-6)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-6)
    assert a.asa_s == pytest.approx(c.asa_s, rel=1e-6)
    assert a.abandonment < 1e-7


def test_erlang_a_is_stable_for_hundreds_of_agents_even_overloaded() -> None:
    # given 500 agents on 480 Erlangs, and 400 agents on the same (overloaded)
    fine = erlang_a_metrics(500, 480 / 180, 180, 300, 20)
    overloaded = erlang_a_metrics(400, 480 / 180, 180, 300, 20)
    # then the results are sane probabilities, and overload sheds the excess as abandonment
    assert 0.9 < fine.service_level <= 1
    assert 0 < fine.abandonment < 0.01
    assert overloaded.abandonment == pytest.approx(80 / 480, rel=1e-3)
    assert overloaded.occupancy == pytest.approx(1.0, abs=1e-6)


def test_patient_staffing_needs_fewer_agents_than_erlang_c() -> None:
    rate = 480 / 180
    with_patience = agents_for_service_level(0.8, rate, 180, 20, patience_s=300)
    without = agents_for_service_level(0.8, rate, 180, 20)
    assert with_patience.agents < without.agents
    assert with_patience.service_level >= 0.8
    assert erlang_a_metrics(with_patience.agents - 1, rate, 180, 300, 20).service_level < 0.8


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(InvalidInput):
        erlang_c_metrics(10, 1, 0, 20)
    with pytest.raises(InvalidInput):
        erlang_a_metrics(0, 1, 180, 60, 20)
    with pytest.raises(InvalidInput):
        agents_for_service_level(1.0, 1, 180, 20)
    with pytest.raises(InvalidInput):
        scheduled_positions(10, 1.0)
