"""`carepath assess` on a real call-centre log (Technion "Anonymous Bank", February 1999): its
abandonment, ASA, AHT and service level agree with a computation written here with the csv
module alone, from the log's own rules."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path
from statistics import fmean

import pytest

from tests.processes import CAREPATH

LOG = (
    Path(__file__).resolve().parents[3]
    / "shared/data/technion-anonymous-bank-1999/anonymous_bank_1999-02.tsv"
)
FIRST_WEEK = {f"9902{day:02d}" for day in range(1, 8)}


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not LOG.exists():
        pytest.skip(f"the Technion log is not here ({LOG}: ../shared is absent)")
    # The first week of February keeps the test fast; the rules are the same every day.
    out = tmp_path_factory.mktemp("technion") / "week.tsv"
    with LOG.open(newline="", encoding="utf-8") as source, out.open("w", newline="") as target:
        lines = source.readlines()
        target.write(lines[0])
        target.writelines(line for line in lines[1:] if line.split("\t")[5] in FIRST_WEEK)
    return out


def independent(path: Path, level_s: float = 20) -> dict[str, float]:
    """The service figures straight from the log: PHANTOM ignored; a call reached the queue
    unless q_start is 0:00:00; HANG after the queue is abandoned; AGENT served by someone other
    than NO_SERVER is an agent's call, with ser_time as its handle time."""
    with path.open(newline="", encoding="utf-8") as handle:
        calls = list(csv.DictReader(handle, delimiter="\t"))
    calls = [c for c in calls if c["outcome"] != "PHANTOM"]
    queued = [c for c in calls if c["q_start"] != "0:00:00"]
    abandoned = [c for c in queued if c["outcome"] == "HANG"]
    answered = [c for c in queued if c["outcome"] != "HANG"]
    served = [c for c in calls if c["outcome"] == "AGENT" and c["server"].strip() != "NO_SERVER"]
    return {
        "calls": len(calls),
        "offered": len(queued),
        "answered": len(answered),
        "abandoned": len(abandoned),
        "abandonment": len(abandoned) / len(queued),
        "asa_s": fmean(float(c["q_time"]) for c in answered),
        "aht_s": fmean(float(c["ser_time"]) for c in served),
        "service_level": sum(float(c["q_time"]) <= level_s for c in answered) / len(queued),
    }


def test_service_figures_agree_with_the_log(week: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    done = subprocess.run(
        [*CAREPATH, "assess", str(week), "--out", str(tmp_path / "report.html"),
         "--json", str(summary)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = json.loads(summary.read_text(encoding="utf-8"))
    expected = independent(week)

    assert figures["input"]["files"][0]["format"] == "technion"
    overall = figures["standing"]["overall"][0]
    assert overall["contacts"] == expected["calls"]
    assert (overall["offered"], overall["answered"], overall["abandoned"]) == (
        expected["offered"], expected["answered"], expected["abandoned"],
    )  # fmt: skip
    for name in ("abandonment", "asa_s", "aht_s", "service_level"):
        assert overall[name] == pytest.approx(expected[name], rel=1e-12), name
