"""Simulation files are validated whole: every error is listed with its line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from carepath.errors import InvalidInput
from carepath.routing.sim_config import SimulationConfig, load_config
from carepath.yaml_config import parse_yaml

BAD = """\
duration_hours: 8
arrivals:
  - intent: billing
    channel: voice
    skill: billing
    rate_per_hour: -5
    handle_time: {distribution: lognormal, mean_s: 300}
agents:
  - name: team
    skills: {billing: 7}
    colour: blue
"""


def test_every_error_is_listed_with_its_line_and_key() -> None:
    # when a file with four mistakes is loaded
    with pytest.raises(InvalidInput) as raised:
        parse_yaml(BAD, SimulationConfig, source="sim.yaml")
    # then all four are reported, each at its line
    found = {(e["loc"], e["line"]) for e in raised.value.data["errors"]}
    assert found == {
        ("arrivals.0.rate_per_hour", 6),
        ("arrivals.0.handle_time", 7),
        ("agents.0.skills.billing", 10),
        ("agents.0.colour", 11),
    }
    assert "line 6: arrivals.0.rate_per_hour" in raised.value.message
    assert raised.value.message.startswith("sim.yaml is not valid (4 errors)")


def test_yaml_syntax_errors_name_the_line() -> None:
    with pytest.raises(InvalidInput, match="line 3"):
        parse_yaml("duration_hours: 8\nseed: 1\n  x: 2\n", SimulationConfig)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        load_config(tmp_path / "nope.yaml")


def test_queues_without_any_skilled_agent_are_refused() -> None:
    text = BAD.replace("rate_per_hour: -5", "rate_per_hour: 5").replace("billing: 7", "sales: 3")
    text = text.replace("    colour: blue\n", "").replace(
        "{distribution: lognormal, mean_s: 300}", "{mean_s: 300}"
    )
    with pytest.raises(InvalidInput, match="no agent has skill 'billing'"):
        parse_yaml(text, SimulationConfig)
