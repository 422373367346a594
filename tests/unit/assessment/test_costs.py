"""The assumptions: cited defaults, a file's values laid over them, and what the report lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from carepath.assessment import load_costs
from carepath.errors import InvalidInput
from tests.unit.assessment.hand_built import write


def test_every_default_says_where_it_comes_from() -> None:
    assumptions = load_costs()

    listed = assumptions.listed()

    assert all(entry["default"] for entry in listed)
    for entry in listed:
        assert entry["source"].startswith("default: ")
        assert "no source given" not in entry["source"], entry["name"]
    costs = {entry["name"]: entry for entry in listed}
    assert "destinationcrm.com" in costs["cost_per_contact"]["source"]
    assert "bls.gov" in costs["agent_cost_per_hour"]["source"]


def test_a_file_overrides_what_it_sets(tmp_path: Path) -> None:
    path = write(
        tmp_path / "costs.yaml",
        "cost_per_contact: {voice: 5.5}\nshrinkage: 0.25\n"
        "pools: {live: [voice, chat]}\nsources: {shrinkage: WFM report 2024}\n",
    )

    assumptions = load_costs(path)

    costs = assumptions.costs
    # maps merge key by key; pools replace the default grouping whole
    assert costs.cost_per_contact["voice"] == 5.5
    assert costs.cost_per_contact["chat"] == 8.01
    assert costs.pools == {"live": ["voice", "chat"]}
    assert costs.pool_of("chat") == "live"
    assert costs.pool_of("email") == "email"
    assert "email" in costs.deferred_pools()
    listed = {entry["name"]: entry for entry in assumptions.listed()}
    assert listed["shrinkage"] == {
        "name": "shrinkage",
        "value": 0.25,
        "default": False,
        "source": f"{path}: WFM report 2024",
    }
    assert listed["cost_per_contact"]["default"] is False
    assert listed["currency"]["default"] is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shrinkage_rate: 0.3\n", "unknown keys shrinkage_rate"),
        ("shrinkage: 1.5\n", "shrinkage"),
        ("cost_per_contact: {fax: 3}\n", "unknown channels fax"),
        ("pools: {a: [voice], b: [voice]}\n", "more than one pool: voice"),
    ],
)
def test_bad_assumptions_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_costs(write(tmp_path / "costs.yaml", text))
