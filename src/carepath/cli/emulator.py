"""`carepath emulator`: the local provider emulator, for demos and manual testing."""

from __future__ import annotations

import typer
import uvicorn

from carepath.cli.common import console
from carepath.emulator import create_emulator


def emulator(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8090, help="TCP port."),
) -> None:
    """Run the provider emulator (Twilio-compatible and Graph API subsets). Never in production."""
    console.print(
        f"provider emulator on http://{host}:{port} — point CAREPATH_TWILIO_API_URL at it; "
        f"recorded requests at /_emulator/requests"
    )
    uvicorn.run(create_emulator(), host=host, port=port, log_level="warning")
