"""The analytics commands on files, run as an analyst would: in a real process."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from carepath.analytics import generate as g
from tests.processes import CAREPATH


def carepath(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CAREPATH, *args], capture_output=True, text=True, timeout=120, check=False
    )


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("analytics")
    found = {
        "contacts": folder / "contacts.parquet",
        "events": folder / "events.csv",
        "small": folder / "small.csv",
    }
    made = carepath(
        "generate", "contacts", "--customers", "8000", "--days", "60", "--seed", "4",
        "--out", str(found["contacts"]), "--events", str(found["events"]),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "contacts to" in made.stderr
    small = carepath(
        "generate", "contacts", "--customers", "50", "--days", "20", "--out", str(found["small"])
    )
    assert small.returncode == 0, small.stderr
    return found


def test_metrics_by_channel_and_intent_as_json(files: dict[str, Path]) -> None:
    report = as_json(
        carepath(
            "metrics",
            "--input",
            str(files["contacts"]),
            "--by",
            "intent,channel",
            "--from",
            "2024-01-08",
            "--to",
            "2024-02-05",
            "--json",
        )
    )

    assert report["by"] == ["intent", "channel"]
    assert report["from"] == "2024-01-08T00:00:00+00:00"
    cells = {(row["intent"], row["channel"]): row for row in report["scorecard"]}
    assert cells[("return_item", "web")]["fcr"] == pytest.approx(1 - g.RETURN_CALLS, abs=0.04)
    assert {row["period"] for row in report["digital_share"]} == {
        "2024-01-08", "2024-01-15", "2024-01-22", "2024-01-29",
    }  # fmt: skip


def test_movement_for_one_intent_with_a_heat_map(files: dict[str, Path], tmp_path: Path) -> None:
    html = tmp_path / "movement.html"

    report = as_json(
        carepath(
            "movement",
            "--input",
            str(files["contacts"]),
            "--hours",
            "24",
            "--intent",
            "return_item",
            "--html",
            str(html),
            "--json",
        )
    )

    cell = next(
        c for c in report["cells"] if (c["from_channel"], c["to_channel"]) == ("web", "voice")
    )
    assert cell["share"] == pytest.approx(g.RETURN_CALLS, abs=0.04)
    assert report["filters"]["intent"] == ["return_item"]
    assert "Plotly.newPlot" in html.read_text(encoding="utf-8")


def test_journeys_with_events_from_a_csv(files: dict[str, Path]) -> None:
    report = as_json(
        carepath(
            "journeys",
            "--input",
            str(files["contacts"]),
            "--events",
            str(files["events"]),
            "--by",
            "intent",
            "--top",
            "2",
            "--json",
        )
    )

    returns = [v for v in report["variants"] if v["intent"] == "return_item"]
    assert [v["path"] for v in returns] == [
        "web page_view → web contact",
        "web page_view → web contact → voice contact",
    ]
    breaks = {row["intent"]: row for row in report["breaks"]}
    assert breaks["return_item"]["break_rate"] == pytest.approx(g.RETURN_CALLS, abs=0.04)
    assert report["sankey"]


def test_tables_for_people(files: dict[str, Path]) -> None:
    result = carepath("metrics", "--input", str(files["small"]), "--by", "segment")

    assert result.returncode == 0, result.stderr
    assert "young" in result.stdout


def test_bad_input_is_refused_with_row_numbers(tmp_path: Path, files: dict[str, Path]) -> None:
    # given the small file with the channel of its first row changed to "fax"
    with files["small"].open(newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    table[1][table[0].index("channel")] = "fax"
    broken = tmp_path / "broken.csv"
    with broken.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(table)

    result = carepath("metrics", "--input", str(broken))
    grouped = carepath("metrics", "--input", str(files["small"]), "--by", "colour")

    assert result.returncode == 1
    assert "row 1, channel: must be one of" in result.stderr
    assert grouped.returncode == 1
    assert "cannot group by 'colour'" in grouped.stderr
