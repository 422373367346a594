"""`carepath simulate`: run the contact-centre simulation of a YAML file with the real router."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from carepath.cli.common import console, err_console, fail
from carepath.errors import InvalidInput
from carepath.routing.sim_config import load_config
from carepath.routing.sim_report import QueueReport, SimulationReport
from carepath.routing.simulator import simulate as run_simulation


def simulate(
    config: Path = typer.Argument(..., help="Simulation YAML (see examples/simulation.yaml)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    seed: int | None = typer.Option(None, "--seed", help="Override the file's random seed."),
) -> None:
    """Simulate arrivals, routing and agents; report service level, ASA, abandonment and
    occupancy per queue and per agent."""
    try:
        spec = load_config(config)
    except InvalidInput as exc:
        fail(exc.message)
    progress = Progress(
        TextColumn("simulating"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}% of simulated time"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    with progress:
        task = progress.add_task("simulate", total=1.0)
        report = run_simulation(
            spec, seed=seed, progress=lambda done: progress.update(task, completed=done)
        )
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        _print(report)


def _print(report: SimulationReport) -> None:
    table = Table(
        title=f"seed {report.seed}, {report.duration_hours:g} h "
        f"(first {report.warmup_hours:g} h not counted)"
    )
    table.add_column("queue", no_wrap=True)
    level = f"SL {report.overall.sl_seconds:g} s"
    for name in ("offered", "answered", "abandoned", "ASA", level, "occupancy"):
        table.add_column(name, justify="right", no_wrap=True)
    for queue in (*report.queues, report.overall):
        table.add_row(*_row(queue))
    console.print(table)
    agents = Table("agent", "group", "handled", "occupancy", "utilisation")
    agents.columns[0].no_wrap = True
    for agent in report.agents:
        agents.add_row(
            agent.agent_id,
            agent.group,
            str(agent.handled),
            _pct(agent.occupancy),
            _pct(agent.utilisation),
        )
    console.print(agents)


def _row(queue: QueueReport) -> list[str]:
    asa = "-" if queue.asa_s is None else f"{queue.asa_s:.1f} s"
    return [
        queue.queue,
        str(queue.offered),
        str(queue.answered),
        f"{queue.abandoned} ({queue.abandonment_rate:.1%})",
        asa,
        _pct(queue.service_level),
        _pct(queue.occupancy),
    ]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
