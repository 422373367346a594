"""`carepath kb import DIR --tenant SLUG`: load Markdown articles with front matter."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from carepath.actions.articles import do_upsert_article
from carepath.cli.common import (
    check_database,
    console,
    err_console,
    open_database,
    run,
    settings_or_exit,
    tenant_principal,
)
from carepath.errors import CarepathError
from carepath.knowledge.articles import ArticleStatus
from carepath.knowledge.importing import read_article_file

kb_app = typer.Typer(help="The knowledge base: import help articles.", no_args_is_help=True)


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@kb_app.command("import")
def kb_import(
    directory: Path = typer.Argument(
        ..., exists=True, file_okay=False, help="Folder of .md files (searched recursively)."
    ),
    tenant: str = typer.Option(..., "--tenant", help="Tenant slug."),
    publish: bool = typer.Option(
        False, "--publish", help="Publish files that do not say `status:` themselves."
    ),
) -> None:
    """Create or update articles by slug from Markdown files with YAML front matter.

    Front matter keys: title, slug (default: the file name), category, intents, tags, locale,
    channels, status (draft or published). A bad file is reported and skipped; the others are
    imported. Exits 1 when any file failed.
    """
    files = sorted(p for p in directory.rglob("*.md") if p.is_file())
    if not files:
        console.print(f"no .md files in {directory}")
        raise typer.Exit(0)
    settings = settings_or_exit()

    async def go() -> tuple[Tally, list[tuple[Path, str]]]:
        tally, errors = Tally(), []
        async with open_database(settings) as db:
            await check_database(db, settings, require_current=True)
            actor = await tenant_principal(db, tenant, "kb-import")
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
            with Progress(*columns, console=console, transient=True) as progress:
                task = progress.add_task("importing", total=len(files))
                for path in files:
                    progress.update(task, description=f"importing {path.name}")
                    try:
                        parsed = read_article_file(path)
                        status = parsed.status or (ArticleStatus.PUBLISHED if publish else None)
                        result = await do_upsert_article(db, actor, parsed.fields, status=status)
                    except CarepathError as exc:
                        errors.append((path, exc.message))
                    else:
                        if result.created:
                            tally.created += 1
                        elif result.changed:
                            tally.updated += 1
                        else:
                            tally.unchanged += 1
                    progress.advance(task)
        return tally, errors

    tally, errors = run(go())
    console.print(
        f"{tally.created} created, {tally.updated} updated, {tally.unchanged} unchanged, "
        f"{len(errors)} failed"
    )
    if errors:
        table = Table("file", "problem", title="files not imported", title_justify="left")
        for path, message in errors:
            table.add_row(str(path.relative_to(directory)), message)
        err_console.print(table)
        raise typer.Exit(1)
