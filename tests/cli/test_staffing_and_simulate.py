"""`carepath staffing` and `carepath simulate`, run as an analyst would."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.processes import CAREPATH

EXAMPLE = Path(__file__).parents[2] / "examples" / "simulation.yaml"


def carepath(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CAREPATH, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_staffing_finds_the_agents_for_a_service_level() -> None:
    # when asked for 80% in 20 s on 100 calls per half hour of 180 s, with 30% shrinkage
    result = carepath(
        "staffing", "--volume", "100", "--interval-minutes", "30", "--aht", "180",
        "--target-sl", "0.8", "--sl-seconds", "20", "--shrinkage", "0.3", "--json",
    )  # fmt: skip
    # then it needs 14 agents on the phones and 20 scheduled
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["model"], report["agents"], report["scheduled_positions"]) == (
        "erlang_c",
        14,
        20,
    )
    assert 0.8 <= report["service_level"] < 0.9


def test_staffing_evaluates_agents_with_patience_as_erlang_a() -> None:
    result = carepath(
        "staffing", "--volume", "100", "--aht", "180", "--agents", "9", "--patience", "120",
        "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["model"] == "erlang_a"
    assert 0 < report["abandonment"] < 1


def test_staffing_reports_an_overloaded_queue_without_breaking_json() -> None:
    result = carepath("staffing", "--volume", "100", "--aht", "180", "--agents", "9", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["service_level"], report["asa_s"]) == (0.0, None)


def test_staffing_prints_a_table() -> None:
    result = carepath("staffing", "--volume", "100", "--aht", "180", "--agents", "14")
    assert result.returncode == 0, result.stderr
    assert "service level" in result.stdout
    assert "88.8% within 20 s" in result.stdout


def test_staffing_needs_exactly_one_question() -> None:
    both = carepath(
        "staffing", "--volume", "1", "--aht", "1", "--agents", "2", "--target-sl", "0.8"
    )
    assert both.returncode == 2
    assert "either --agents" in both.stderr


def test_simulate_runs_the_example_and_prints_json() -> None:
    result = carepath("simulate", str(EXAMPLE), "--json", "--seed", "3")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["seed"] == 3
    assert report["overall"]["offered"] > 0
    assert {q["queue"] for q in report["queues"]} >= {"refund_not_received/voice"}


def test_simulate_refuses_a_bad_file_listing_every_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("duration_hours: -1\narrivals: []\nagents: []\n")
    result = carepath("simulate", str(bad))
    assert result.returncode == 1
    assert "3 errors" in result.stderr
    assert "line 1: duration_hours" in result.stderr
