"""`carepath generate contacts`, `export`, `metrics`, `movement` and `journeys`: analytics over a
Parquet or CSV file, or over the live database when no --input is given."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from carepath.cli.common import console, err_console, fail, open_database, run, settings_or_exit
from carepath.errors import CarepathError

# ibis, Arrow and Plotly are imported by the commands that use them, not by every `carepath`.
if TYPE_CHECKING:
    import ibis.expr.types as ir

    from carepath.analytics.engine import Engine
    from carepath.analytics.journeys import JourneyGroup
    from carepath.analytics.metrics import Grain
    from carepath.analytics.schema import TableSpec
    from carepath.analytics.sources import TableWriter
    from carepath.analytics.strategy import Plan
    from carepath.tenant_config import TenantConfig

generate_app = typer.Typer(
    help="Generate synthetic data with known patterns.", no_args_is_help=True
)
export_app = typer.Typer(
    help="Export the operational database to the analytics tables (Parquet or CSV).",
    no_args_is_help=True,
)
T = TypeVar("T")
_GRAINS: dict[str, Grain] = {"day": "day", "week": "week", "month": "month"}
_JOURNEY_GROUPS: dict[str | None, JourneyGroup] = {
    None: None,
    "segment": "segment",
    "intent": "intent",
}
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ"]

INPUT = typer.Option(
    None,
    "--input",
    exists=True,
    dir_okay=False,
    help="Contacts as .parquet or .csv; the live database when left out.",
)
TENANT = typer.Option(None, "--tenant", help="Tenant slug, for the live database.")
FROM = typer.Option(None, "--from", formats=DATE_FORMATS, help="First day (UTC) measured.")
TO = typer.Option(None, "--to", formats=DATE_FORMATS, help="Day (UTC) after the last measured.")
AS_JSON = typer.Option(False, "--json", help="Print JSON instead of tables.")


@generate_app.command("contacts")
def generate_contacts(
    out: Path = typer.Option(..., "--out", help="Where to write the contacts (.parquet/.csv)."),
    customers: int = typer.Option(10_000, "--customers", min=1, help="How many customers."),
    days: int = typer.Option(90, "--days", min=1, help="How many days of history."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed, the same rows."),
    events: Path | None = typer.Option(
        None, "--events", help="Also write the journey events (.parquet/.csv) here."
    ),
    start: datetime = typer.Option(
        "2024-01-01", "--start", formats=["%Y-%m-%d"], help="First day (UTC)."
    ),
) -> None:
    """Synthetic contacts with the planted patterns of docs/subsystems/analytics.md."""
    from carepath.analytics.generate import CHUNK_CUSTOMERS, generate
    from carepath.analytics.schema import CONTACTS
    from carepath.analytics.sources import TableWriter

    chunks = guard(lambda: generate(customers, days, seed, start=_utc(start)))
    with (
        _bar("generating", "customers") as advance,
        TableWriter(out, CONTACTS) as writer,
        _maybe_writer(events) as event_writer,
    ):
        advance(0, customers)
        for number, (contacts, journey_events) in enumerate(chunks, start=1):
            writer.write(contacts)
            if event_writer is not None:
                event_writer.write(journey_events)
            advance(min(number * CHUNK_CUSTOMERS, customers), customers)
    err_console.print(f"wrote {writer.rows:,} contacts to {out}", highlight=False)


@contextmanager
def _maybe_writer(path: Path | None) -> Iterator[TableWriter | None]:
    from carepath.analytics.schema import JOURNEY_EVENTS
    from carepath.analytics.sources import TableWriter

    if path is None:
        yield None
        return
    with TableWriter(path, JOURNEY_EVENTS) as writer:
        yield writer


def _export(spec: TableSpec, out: Path, tenant: str | None) -> None:
    from carepath.analytics.export import export, export_tenant

    settings = settings_or_exit()

    async def go() -> int:
        async with open_database(settings) as db:
            found = await export_tenant(db, tenant)
            with _bar(f"exporting {spec.name}", "rows") as advance:
                return await export(db, spec, found.id, out, progress=advance)

    written = run(go())
    err_console.print(f"wrote {written:,} {spec.name} rows to {out}", highlight=False)


@export_app.command("contacts")
def export_contacts(
    out: Path = typer.Option(..., "--out", help="Where to write them (.parquet or .csv)."),
    tenant: str | None = TENANT,
) -> None:
    """Export a tenant's contacts as the contacts table (docs/subsystems/analytics.md)."""
    from carepath.analytics.schema import CONTACTS

    _export(CONTACTS, out, tenant)


@export_app.command("journey-events")
def export_journey_events(
    out: Path = typer.Option(..., "--out", help="Where to write them (.parquet or .csv)."),
    tenant: str | None = TENANT,
) -> None:
    """Export a tenant's journey events as the journey-events table."""
    from carepath.analytics.schema import JOURNEY_EVENTS

    _export(JOURNEY_EVENTS, out, tenant)


def metrics(
    input_path: Path | None = INPUT,
    tenant: str | None = TENANT,
    start: datetime | None = FROM,
    end: datetime | None = TO,
    by: str = typer.Option(
        "channel", "--by", help="Comma-separated: channel, intent, segment, handled_by, period."
    ),
    period: str = typer.Option("week", "--period", help="day, week (ISO) or month."),
    fcr_days: float = typer.Option(7, "--fcr-days", help="Repeat-contact window, days."),
    hours: float = typer.Option(24, "--hours", help="Movement / verified-containment window."),
    level_s: float = typer.Option(20, "--service-level-s", help="Service level threshold."),
    exclude_short_abandons: bool = typer.Option(
        False, "--exclude-short-abandons", help="Leave abandons under the threshold out of SL."
    ),
    plan_file: Path | None = typer.Option(
        None,
        "--plan",
        exists=True,
        dir_okay=False,
        help="Tenant YAML whose strategy map is the plan (compliance).",
    ),
    as_json: bool = AS_JSON,
) -> None:
    """Volume, FCR, repeat contact, containment, AHT, ASA, service level, abandonment,
    CSAT/NPS/CES and digital share by the chosen dimensions; strategy compliance with a plan."""
    from carepath.analytics.suite import Metrics, MetricSettings, rows

    groups = [name.strip() for name in by.split(",") if name.strip()]
    settings = guard(
        lambda: MetricSettings(fcr_days, hours, level_s, exclude_short_abandons, _grain(period))
    )
    plan = guard(lambda: _plan_file(plan_file))
    with _loaded(input_path, tenant) as loaded:
        suite = Metrics(loaded.contacts, settings, start=_utc(start), end=_utc(end))
        plan = plan or loaded.plan
        with _working("computing metrics…"):
            report: dict[str, Any] = {
                "input": str(input_path) if input_path else "database",
                "from": _iso(start),
                "to": _iso(end),
                "by": groups,
                "settings": settings.as_dict(),
                "scorecard": guard(lambda: rows(suite.scorecard(groups))),
                "digital_share": rows(suite.digital_share()),
            }
            if plan is not None:
                report["compliance"] = rows(suite.compliance(plan))
    if as_json:
        print(json.dumps(report, indent=2))
        return
    _print_scorecard(report["scorecard"], groups)


def movement(
    input_path: Path | None = INPUT,
    tenant: str | None = TENANT,
    start: datetime | None = FROM,
    end: datetime | None = TO,
    hours: float = typer.Option(24, "--hours", help="How long after a contact to look."),
    intent: list[str] = typer.Option([], "--intent", help="Only contacts of this intent."),
    segment: list[str] = typer.Option([], "--segment", help="Only contacts of this segment."),
    handled_by: list[str] = typer.Option([], "--handled-by", help="Only contacts so handled."),
    html: Path | None = typer.Option(None, "--html", help="Also write the heat map page here."),
    as_json: bool = AS_JSON,
) -> None:
    """The cross-channel movement matrix: of the contacts on one channel, the share followed
    within --hours by a contact of the same customer on each channel."""
    from carepath.analytics import charts
    from carepath.analytics.suite import Metrics, MetricSettings, rows

    settings = guard(lambda: MetricSettings(hours=hours))
    with _loaded(input_path, tenant) as loaded:
        suite = Metrics(loaded.contacts, settings, start=_utc(start), end=_utc(end))
        with _working("computing movement…"):
            cells = rows(
                suite.movement(
                    intent=intent or None, segment=segment or None, handled_by=handled_by or None
                )
            )
    if html is not None:
        html.write_text(charts.page([charts.movement_heatmap(cells)]), encoding="utf-8")
    if as_json:
        filters = {"intent": intent, "segment": segment, "handled_by": handled_by}
        print(json.dumps({"hours": hours, "filters": filters, "cells": cells}, indent=2))
        return
    _print_matrix(cells)


def journeys(
    input_path: Path | None = INPUT,
    events: Path | None = typer.Option(
        None,
        "--events",
        exists=True,
        dir_okay=False,
        help="Journey events (.parquet/.csv) to merge with the contacts.",
    ),
    tenant: str | None = TENANT,
    by: str | None = typer.Option(None, "--by", help="Group by segment or intent."),
    top: int = typer.Option(10, "--top", min=1, help="How many variants to list."),
    gap_hours: float = typer.Option(48, "--gap-hours", help="A longer pause starts a journey."),
    html: Path | None = typer.Option(None, "--html", help="Also write the Sankey page here."),
    as_json: bool = AS_JSON,
) -> None:
    """Journeys of touchpoints: top variants, the directly-follows graph, where digital
    journeys break into a phone call, and channel transitions."""
    from carepath.analytics import charts
    from carepath.analytics.journeys import Journeys, JourneySettings
    from carepath.analytics.suite import rows

    group: JourneyGroup = guard(lambda: _journey_group(by))
    settings = guard(lambda: JourneySettings(gap_hours=gap_hours, top=top))
    with _loaded(input_path, tenant, events=events, with_events=True) as loaded:
        analysis = Journeys(loaded.contacts, loaded.events, settings)
        with _working("computing journeys…"):
            report = {
                "variants": rows(analysis.variants(group)),
                "breaks": rows(analysis.breaks(group)),
                "break_points": rows(analysis.break_points(group)),
                "graph": rows(analysis.graph(group)),
                "sankey": rows(analysis.sankey()),
            }
    if html is not None:
        html.write_text(charts.page([charts.sankey(report["sankey"])]), encoding="utf-8")
    if as_json:
        print(json.dumps({"by": by, "gap_hours": gap_hours, **report}, indent=2))
        return
    _print_rows("top variants", report["variants"])
    _print_rows("digital journeys that reached a phone call", report["breaks"])
    _print_rows("what came just before the call", report["break_points"])


@dataclass
class _Loaded:
    engine: Engine
    contacts: ir.Table
    events: ir.Table | None = None
    plan: Plan | None = None


@contextmanager
def _loaded(
    input_path: Path | None,
    tenant: str | None,
    *,
    events: Path | None = None,
    with_events: bool = False,
) -> Iterator[_Loaded]:
    from carepath.analytics.engine import duckdb_engine

    engine = duckdb_engine()
    try:
        with TemporaryDirectory(prefix="carepath-analytics-") as work:
            if input_path is not None:
                yield _from_files(engine, input_path, events, Path(work))
            else:
                if events is not None:
                    fail("--events goes with --input; the database has its own journey events")
                yield _from_database(engine, tenant, with_events)
    except CarepathError as exc:
        fail(exc.message)
    finally:
        engine.close()


def _from_files(engine: Engine, contacts: Path, events: Path | None, work: Path) -> _Loaded:
    from carepath.analytics.schema import CONTACTS, JOURNEY_EVENTS
    from carepath.analytics.sources import prepare_parquet

    with _bar(f"checking {contacts.name}", "rows") as advance:
        checked = prepare_parquet(contacts, work, CONTACTS, progress=advance)
    loaded = _Loaded(engine, engine.table(checked, "contacts"))
    if events is not None:
        with _bar(f"checking {events.name}", "rows") as advance:
            checked = prepare_parquet(events, work, JOURNEY_EVENTS, progress=advance)
        loaded.events = engine.table(checked, "journey_events")
    return loaded


def _from_database(engine: Engine, tenant: str | None, with_events: bool) -> _Loaded:
    from carepath.analytics.export import export_tenant, read_all
    from carepath.analytics.schema import CONTACTS, JOURNEY_EVENTS
    from carepath.analytics.strategy import plan_from_config
    from carepath.tenant_config import TenantConfig

    settings = settings_or_exit()

    async def go() -> tuple[Any, Any, TenantConfig | None]:
        async with open_database(settings) as db:
            found = await export_tenant(db, tenant)
            with _bar("reading contacts", "rows") as advance:
                contacts = await read_all(db, CONTACTS, found.id, progress=advance)
            events = None
            if with_events:
                with _bar("reading journey events", "rows") as advance:
                    events = await read_all(db, JOURNEY_EVENTS, found.id, progress=advance)
            async with db.uow(write=False) as uow:
                current = await uow.tenant_configs.current(found.id)
            config = None if current is None else TenantConfig.model_validate(current.document)
            return contacts, events, config

    contacts, events, config = run(go())
    return _Loaded(
        engine,
        engine.table(contacts, "contacts"),
        None if events is None else engine.table(events, "journey_events"),
        None if config is None else plan_from_config(config),
    )


def guard(make: Callable[[], T]) -> T:
    """Expected errors in a command's own work become a clear message and exit code 1."""
    try:
        return make()
    except CarepathError as exc:
        fail(exc.message)


@contextmanager
def _bar(label: str, unit: str) -> Iterator[Callable[[int, int | None], None]]:
    progress = Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn(f"{{task.completed:,}} {unit}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        # Off when stderr is not a terminal: a finished bar would leave a blank line in logs.
        disable=not err_console.is_terminal,
    )
    with progress:
        task = progress.add_task(label, total=None)

        def advance(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        yield advance


def _grain(period: str) -> Grain:
    if period not in _GRAINS:
        fail(f"--period must be day, week or month, not {period!r}")
    return _GRAINS[period]


def _journey_group(by: str | None) -> JourneyGroup:
    if by not in _JOURNEY_GROUPS:
        fail(f"--by must be segment or intent, not {by!r}")
    return _JOURNEY_GROUPS[by]


def _plan_file(path: Path | None) -> Plan | None:
    from carepath.analytics.strategy import plan_from_config
    from carepath.tenant_config.model import parse_tenant_config

    if path is None:
        return None
    config = parse_tenant_config(path.read_text(encoding="utf-8"), source=str(path))
    return plan_from_config(config)


def _utc(moment: datetime | None) -> Any:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    utc = _utc(moment)
    return None if utc is None else utc.isoformat()


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: Any, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _print_scorecard(found: Sequence[dict[str, Any]], groups: Sequence[str]) -> None:
    table = Table()
    for name in groups:
        table.add_column(name, no_wrap=True)
    for name in ("contacts", "FCR", "contain.", "verified", "AHT s", "ASA s", "SL", "abandon."):
        table.add_column(name, justify="right")
    for name in ("CSAT", "NPS", "CES", "digital"):
        table.add_column(name, justify="right")
    for row in found:
        table.add_row(
            *[str(row[name]) for name in groups],
            f"{row['contacts']:,}",
            _pct(row["fcr"]),
            _pct(row["containment"]),
            _pct(row["verified_containment"]),
            _num(row["aht_s"], 0),
            _num(row["asa_s"]),
            _pct(row["service_level"]),
            _pct(row["abandonment"]),
            _pct(row["csat"]),
            _num(row["nps"]),
            _num(row["ces"], 2),
            _pct(row["digital_share"]),
        )
    console.print(table)


def _print_matrix(cells: Sequence[dict[str, Any]]) -> None:
    from carepath.analytics.schema import CHANNELS

    table = Table("from \\ to", *CHANNELS, "contacts")
    froms = [c for c in CHANNELS if any(cell["from_channel"] == c for cell in cells)]
    found = {(cell["from_channel"], cell["to_channel"]): cell for cell in cells}
    for origin in froms:
        shares = [_pct(found.get((origin, to), {}).get("share")) for to in CHANNELS]
        total = next(cell["contacts"] for cell in cells if cell["from_channel"] == origin)
        table.add_row(origin, *shares, f"{total:,}")
    console.print(table)


def _print_rows(title: str, found: Sequence[dict[str, Any]]) -> None:
    if not found:
        console.print(f"{title}: none")
        return
    table = Table(*found[0].keys(), title=title)
    for row in found:
        table.add_row(*[_cell(value) for value in row.values()])
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _working(message: str) -> AbstractContextManager[Any]:
    return err_console.status(message) if err_console.is_terminal else nullcontext()
