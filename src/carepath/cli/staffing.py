"""`carepath staffing`: Erlang C (or Erlang A with a patience) for one interval's workload."""

from __future__ import annotations

import json
import math
from typing import Any

import typer
from rich.table import Table

from carepath.cli.common import console, fail
from carepath.errors import InvalidInput
from carepath.staffing import QueueMetrics, agents_for_service_level, metrics, scheduled_positions


def staffing(
    volume: float = typer.Option(..., "--volume", help="Contacts offered in the interval."),
    interval_minutes: float = typer.Option(
        30.0, "--interval-minutes", help="Length of the interval in minutes."
    ),
    aht: float = typer.Option(
        ..., "--aht", help="Average handle time in seconds (talk, hold and wrap-up)."
    ),
    agents: int | None = typer.Option(None, "--agents", help="Evaluate this many agents."),
    target_sl: float | None = typer.Option(
        None, "--target-sl", help="Find the agents for this service level (e.g. 0.8)."
    ),
    sl_seconds: float = typer.Option(
        20.0, "--sl-seconds", help="Answer-within threshold of the service level."
    ),
    shrinkage: float = typer.Option(
        0.0, "--shrinkage", help="Share of paid time not on contacts (e.g. 0.3)."
    ),
    patience: float | None = typer.Option(
        None, "--patience", help="Mean customer patience in seconds: Erlang A with abandonment."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Probability of waiting, service level, ASA, occupancy and the agents needed (Erlang C;
    Erlang A when --patience is given)."""
    if agents is not None and target_sl is not None:
        fail("give either --agents N (evaluate) or --target-sl 0.8 (find the agents)", code=2)
    if interval_minutes <= 0 or volume < 0:
        fail("--interval-minutes must be above 0 and --volume 0 or more", code=2)
    rate = volume / (interval_minutes * 60.0)
    try:
        if agents is not None:
            result = metrics(agents, rate, aht, sl_seconds, patience)
        elif target_sl is not None:
            result = agents_for_service_level(target_sl, rate, aht, sl_seconds, patience)
        else:
            fail("give either --agents N (evaluate) or --target-sl 0.8 (find the agents)", code=2)
        positions = scheduled_positions(result.agents, shrinkage)
    except InvalidInput as exc:
        fail(exc.message, code=2)
    report = _report(result, positions, shrinkage, volume, interval_minutes, aht, patience)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        _print_table(report)


def _report(
    result: QueueMetrics,
    positions: int,
    shrinkage: float,
    volume: float,
    interval_minutes: float,
    aht: float,
    patience: float | None,
) -> dict[str, Any]:
    figures = {k: _finite(v) for k, v in result.as_dict().items()}
    return {
        **figures,
        "scheduled_positions": positions,
        "shrinkage": shrinkage,
        "inputs": {
            "volume": volume,
            "interval_minutes": interval_minutes,
            "aht_s": aht,
            "patience_s": patience,
        },
    }


def _finite(value: Any) -> Any:
    """JSON has no infinity: an unanswerable ASA is null."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _print_table(report: dict[str, Any]) -> None:
    def pct(value: float) -> str:
        return f"{value:.1%}"

    asa = report["asa_s"]
    rows = [
        ("model", "Erlang A" if report["model"] == "erlang_a" else "Erlang C"),
        ("traffic", f"{report['traffic_erlangs']:.2f} Erlangs"),
        ("agents", str(report["agents"])),
        (
            "scheduled positions",
            f"{report['scheduled_positions']} ({pct(report['shrinkage'])} shrinkage)",
        ),
        ("probability of waiting", pct(report["probability_of_waiting"])),
        ("service level", f"{pct(report['service_level'])} within {report['sl_seconds']:g} s"),
        ("average speed of answer", "never (overloaded)" if asa is None else f"{asa:.1f} s"),
        ("occupancy", pct(report["occupancy"])),
    ]
    if report["model"] == "erlang_a":
        rows.append(("abandonment", pct(report["abandonment"])))
    table = Table("", "", show_header=False, box=None)
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
