"""`carepath assess`: the digital care assessment of an export of historic interactions, as one
self-contained HTML report (and, with --json, every figure as JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from carepath.cli.common import err_console, fail
from carepath.errors import CarepathError

if TYPE_CHECKING:
    from carepath.assessment import Scenario
    from carepath.assessment.intake import Format


def assess(
    inputs: list[Path] = typer.Argument(
        ..., exists=True, dir_okay=False, help="Exports to assess (.csv, .tsv or .parquet)."
    ),
    out: Path = typer.Option(..., "--out", help="Where to write the HTML report."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write every figure as JSON."),
    strategy: Path | None = typer.Option(
        None, "--strategy", help="Also write the draft contact strategy map (tenant YAML)."
    ),
    costs: Path | None = typer.Option(
        None, "--costs", exists=True, dir_okay=False, help="Costs and assumptions (YAML)."
    ),
    format: str = typer.Option(
        "auto", "--format", help="contacts, chatwoot, zendesk, technion or auto (by the header)."
    ),
    mapping: Path | None = typer.Option(
        None, "--mapping", exists=True, dir_okay=False, help="A mapping file for other exports."
    ),
    scenarios: Path | None = typer.Option(
        None, "--scenarios", exists=True, dir_okay=False, help="Migration scenarios (YAML)."
    ),
    shift: list[str] = typer.Option(
        [],
        "--shift",
        help="A shift for a scenario from the flags: INTENT:FROM>TO:SHARE%[:CONTAINED%].",
    ),
    investment: float = typer.Option(0.0, "--investment", help="One-off cost of that scenario."),
    run_cost: float = typer.Option(0.0, "--run-cost", help="Its running cost per month."),
    name: str = typer.Option("Scenario", "--name", help="Its name in the report."),
) -> None:
    """Where you stand, the journey map, the intents to move and the business case of
    migration scenarios (docs/assessment.md)."""
    from carepath.assessment import (
        FORMATS,
        as_json,
        load_costs,
        load_mapping,
        read_inputs,
        render_html,
    )
    from carepath.assessment import assess as run_assessment

    if format not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {format!r}", code=2)
    try:
        assumptions = load_costs(costs)
        chosen = None if mapping is None else load_mapping(mapping)
        planned = _scenarios(scenarios, shift, investment, run_cost, name)
        with _progress() as progress:
            tasks: dict[Path, TaskID] = {}

            def advance(path: Path, done: int, total: int | None) -> None:
                if path not in tasks:
                    tasks[path] = progress.add_task(f"reading {path.name}", total=total)
                progress.update(tasks[path], completed=done, total=total)

            intake = read_inputs(
                list(inputs), format=cast("Format", format), mapping=chosen, progress=advance
            )
            err_console.print(intake.summary(), highlight=False, markup=False)
            working = progress.add_task("assessing", total=None)
            summary = run_assessment(
                intake,
                assumptions,
                planned,
                step=lambda message: progress.update(working, description=message),
            )
            progress.update(working, description="writing the report")
            html = render_html(summary)
    except CarepathError as exc:
        fail(exc.message)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(as_json(summary), encoding="utf-8")
    if strategy is not None:
        strategy.parent.mkdir(parents=True, exist_ok=True)
        strategy.write_text(summary["strategy_map_yaml"], encoding="utf-8")
    err_console.print(f"wrote the report to {out}", highlight=False)


def _scenarios(
    path: Path | None, shifts: list[str], investment: float, run_cost: float, name: str
) -> list[Scenario]:
    from carepath.assessment import Scenario, load_scenarios, parse_shift

    found = [] if path is None else load_scenarios(path)
    if shifts:
        found.append(
            Scenario(
                name=name,
                shifts=[parse_shift(text) for text in shifts],
                investment=investment,
                run_cost_per_month=run_cost,
            )
        )
    elif investment or run_cost:
        fail("--investment and --run-cost go with --shift", code=2)
    return found


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        # Off when stderr is not a terminal: a finished bar would leave a blank line in logs.
        disable=not err_console.is_terminal,
    )
