"""The simulator, driving the real router, reproduces queueing theory: Erlang C without
abandonment, Erlang A with exponential patience.

How many contacts: over 10^5 contacts the simulated ASA of these queues has a relative standard
deviation of about 2% (Erlang C, measured over 12-16 seeds) and 1.2% (Erlang A), because
waits of consecutive callers are strongly correlated. A 2% bound at 10^5 contacts would then pass
or fail by the luck of the seed, so these runs use 10^6 and 4 x 10^5 contacts, where 2% is more
than three standard deviations. Service level and abandonment are far less noisy.
"""

from __future__ import annotations

from typing import Any

import pytest

from carepath.routing.sim_config import SimulationConfig
from carepath.routing.simulator import simulate
from carepath.staffing import erlang_a_metrics, erlang_c_metrics

AHT = 180.0
SL_SECONDS = 20.0


def one_queue(
    agents: int, erlangs: float, contacts: int, patience: float | None
) -> SimulationConfig:
    """One skill, exponential handle times, `agents` identical one-call-at-a-time agents."""
    per_hour = erlangs / AHT * 3600
    arrival: dict[str, Any] = {
        "intent": "billing",
        "channel": "voice",
        "skill": "billing",
        "rate_per_hour": per_hour,
        "handle_time": {"distribution": "exponential", "mean_s": AHT},
    }
    if patience is not None:
        arrival["patience"] = {"distribution": "exponential", "mean_s": patience}
    return SimulationConfig.model_validate(
        {
            "duration_hours": contacts / per_hour + 2,
            "warmup_hours": 2,
            "service_level_seconds": SL_SECONDS,
            "arrivals": [arrival],
            "agents": [{"name": "a", "count": agents, "skills": {"billing": 3}}],
        }
    )


@pytest.mark.slow
def test_without_abandonment_the_simulation_matches_erlang_c() -> None:
    # given two agents on one Erlang of exponential calls, callers who never hang up
    config = one_queue(agents=2, erlangs=1.0, contacts=1_000_000, patience=None)
    # when a million calls are simulated
    result = simulate(config, seed=1).overall
    theory = erlang_c_metrics(2, 1.0 / AHT, AHT, SL_SECONDS)
    # then service level, ASA and occupancy agree with Erlang C within 2%
    assert result.offered > 990_000
    assert result.abandoned == 0
    assert result.service_level == pytest.approx(theory.service_level, rel=0.02)
    assert result.asa_s == pytest.approx(theory.asa_s, rel=0.02)
    assert result.occupancy == pytest.approx(theory.occupancy, rel=0.02)


@pytest.mark.slow
def test_with_exponential_patience_the_simulation_matches_erlang_a() -> None:
    # given two agents on two Erlangs (fully loaded), callers with a mean patience of 60 s
    config = one_queue(agents=2, erlangs=2.0, contacts=400_000, patience=60.0)
    # when 400,000 calls are simulated
    result = simulate(config, seed=1).overall
    theory = erlang_a_metrics(2, 2.0 / AHT, AHT, 60.0, SL_SECONDS)
    # then service level, ASA of answered calls, abandonment and occupancy agree within 2%
    assert result.offered > 395_000
    assert result.service_level == pytest.approx(theory.service_level, rel=0.02)
    assert result.asa_s == pytest.approx(theory.asa_s, rel=0.02)
    assert result.abandonment_rate == pytest.approx(theory.abandonment, rel=0.02)
    assert result.occupancy == pytest.approx(theory.occupancy, rel=0.02)
