"""`carepath assess` run as an analyst would, in a real process: a report, its JSON, scenarios
from flags and from a file, and bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyarrow as pa

from carepath.analytics.schema import CONTACTS
from carepath.analytics.sources import write_table
from carepath.tenant_config import parse_tenant_config
from tests.processes import CAREPATH
from tests.unit.assessment.hand_built import STANDING

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def carepath(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CAREPATH, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_report_json_and_scenarios(tmp_path: Path) -> None:
    # given the hand-built contacts as a CSV and a scenario file
    contacts = tmp_path / "contacts.csv"
    write_table(pa.Table.from_pylist(STANDING, schema=CONTACTS.schema), contacts)
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text(
        "scenarios:\n  - name: billing by email\n    shifts:\n"
        "      - {intent: billing, from: voice, to: email, share: 0.5}\n"
        "    investment: 1000\n",
        encoding="utf-8",
    )
    report, summary = tmp_path / "out" / "report.html", tmp_path / "out" / "summary.json"
    strategy = tmp_path / "out" / "strategy.yaml"

    # when the assessment runs with a scenario from the file and one from flags
    done = carepath(
        "assess", str(contacts), "--out", str(report), "--json", str(summary),
        "--scenarios", str(scenarios), "--shift", "returns:voice>web:50%",
        "--name", "returns online", "--investment", "500", "--strategy", str(strategy),
    )  # fmt: skip

    # then both files are written, with the figures and both scenarios
    assert done.returncode == 0, done.stderr
    assert "7 used" in done.stderr
    figures = json.loads(summary.read_text(encoding="utf-8"))
    assert figures["input"]["used"] == 7
    assert figures["standing"]["overall"][0]["fcr"] == 4 / 6
    assert [s["name"] for s in figures["scenarios"]] == ["billing by email", "returns online"]
    assert figures["scenarios"][1]["shifts"][0]["contained"] == 1.0  # the web: self-service
    html = report.read_text(encoding="utf-8")
    assert html.count("Plotly.newPlot") >= 10
    assert "<script src=" not in html  # plotly.js is inlined, nothing to fetch
    assert "billing by email" in html
    config = parse_tenant_config(strategy.read_text(encoding="utf-8"))
    assert {intent.name for intent in config.intents} == {"billing", "returns", "order_status"}


def test_the_example_files_with_the_defaults_shown(tmp_path: Path) -> None:
    contacts = tmp_path / "contacts.parquet"
    write_table(pa.Table.from_pylist(STANDING, schema=CONTACTS.schema), contacts)
    summary = tmp_path / "summary.json"

    done = carepath(
        "assess", str(contacts), "--out", str(tmp_path / "r.html"), "--json", str(summary),
        "--costs", str(EXAMPLES / "assessment-costs.yaml"),
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    listed = {a["name"]: a for a in json.loads(summary.read_text())["assumptions"]}
    assert listed["agent_cost_per_hour"]["default"] is False
    assert listed["deferred_occupancy"]["default"] is True


def test_nothing_usable_fails_with_the_row_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    header = ",".join(CONTACTS.names)
    bad.write_text(
        f"{header}\n"
        "a,c1,,yesterday,,chat,agent,false,,,,false,,,,,\n"
        "b,c2,,2024-01-01T09:00:00,,chat,agent,false,,,,false,,,,,\n",
        encoding="utf-8",
    )

    done = carepath("assess", str(bad), "--out", str(tmp_path / "r.html"))

    assert done.returncode == 1
    assert "nothing usable" in done.stderr
    assert "row 1, started_at" in done.stderr
    assert "row 2, started_at" in done.stderr
    assert not (tmp_path / "r.html").exists()


def test_a_bad_shift_flag(tmp_path: Path) -> None:
    contacts = tmp_path / "contacts.csv"
    write_table(pa.Table.from_pylist(STANDING, schema=CONTACTS.schema), contacts)

    done = carepath("assess", str(contacts), "--out", str(tmp_path / "r.html"), "--shift", "x")

    assert done.returncode == 1
    assert "INTENT:FROM>TO:SHARE%" in done.stderr
