"""The `carepath` command."""

from __future__ import annotations

import typer

from carepath import __version__
from carepath.cli.admin import migrate, tenant_app, token_app, user_app
from carepath.cli.analytics import export_app, generate_app, journeys, metrics, movement
from carepath.cli.assess import assess
from carepath.cli.assistant import assistant_app
from carepath.cli.emulator import emulator
from carepath.cli.kb import kb_app
from carepath.cli.privacy import customer_app
from carepath.cli.server import demo, serve
from carepath.cli.simulate import simulate
from carepath.cli.smtp import smtp
from carepath.cli.staffing import staffing
from carepath.cli.worker import worker

app = typer.Typer(
    name="carepath",
    help="carepath: one customer, one case and one history across every channel.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"carepath {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """carepath: one customer, one case and one history across every channel."""


app.command()(serve)
app.command()(demo)
app.command()(migrate)
app.command()(worker)
app.command()(smtp)
app.command()(emulator)
app.command()(staffing)
app.command()(simulate)
app.add_typer(tenant_app, name="tenant")
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.command()(metrics)
app.command()(movement)
app.command()(journeys)
app.command()(assess)
app.add_typer(generate_app, name="generate")
app.add_typer(export_app, name="export")
app.add_typer(assistant_app, name="assistant")
app.add_typer(kb_app, name="kb")
app.add_typer(customer_app, name="customer")


def run() -> None:
    app()
