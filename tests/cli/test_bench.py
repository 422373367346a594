"""`scripts/bench --quick`: the suite runs its server benchmarks end to end and writes its table."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]


@pytest.mark.timeout(90)
def test_the_quick_suite_measures_ingest_and_fan_out_against_their_baselines(
    tmp_path: Path,
) -> None:
    # given a results folder of its own, so that a real run's figures stay where they are
    env = {**os.environ, "CAREPATH_BENCH_RESULTS": str(tmp_path)}
    # when the smoke run of the two server benchmarks runs
    done = subprocess.run(
        [str(REPO / "scripts" / "bench"), "--quick", "--only", "ingest,fanout"],
        env=env,
        capture_output=True,
        text=True,
        timeout=80,
        check=False,
    )
    # then it finishes, every acknowledged message was stored (ingest checks that itself) and
    # every event reached every stream
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "latest.json").read_text())
    assert report["quick"] is True
    assert not report["failed"]
    names = [row["benchmark"] for row in report["rows"]]
    assert any(name.startswith("ingest SQLite: msgs/s") for name in names), names
    assert any(name.startswith("fan-out SQLite") for name in names), names
    for row in report["rows"]:
        assert row["carepath"] > 0, row
        assert row["baseline"] > 0, row
    fanout = json.loads((tmp_path / "fanout.json").read_text())["results"]
    assert fanout["50 streams, 1 process"]["missing"] == 0
    assert (
        fanout["50 streams, 1 process"]["deliveries"]
        == 50 * fanout["50 streams, 1 process"]["events"]
    )
    assert (
        "| benchmark | carepath | baseline | ratio | goal | result |"
        in (tmp_path / "latest.md").read_text()
    )
