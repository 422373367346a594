"""`carepath smtp` and `carepath serve --smtp-port` as an operator runs them: real processes
that take mail until SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from carepath.storage import Database
from carepath.storage import migrate as migrations
from tests.channels.email.conftest import add_email_account, eml, smtp_send
from tests.channels.email.stored import all_messages
from tests.conftest import TEST_SECRET
from tests.factories import make_company
from tests.processes import CAREPATH, free_port, running_server


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAREPATH_")}
    return {
        **clean,
        "CAREPATH_DATA_DIR": str(tmp_path / "data"),
        "CAREPATH_SECRET_KEY": TEST_SECRET,
        "CAREPATH_IMAP_POLL_INTERVAL_S": "0",
    }


@pytest.fixture
async def served_db(tmp_path: Path) -> AsyncIterator[Database]:
    """The database the commands find through CAREPATH_DATA_DIR, migrated, with an address."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'carepath.db'}")
    await migrations.upgrade(db)
    await add_email_account(db, await make_company(db))
    yield db
    await db.dispose()


def _wait_for_port(port: int, within_s: float = 30) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listened on {port} within {within_s} s")


async def test_carepath_smtp_takes_mail_until_sigterm(
    env: dict[str, str], served_db: Database
) -> None:
    # given `carepath smtp` running
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *CAREPATH,
        "smtp",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await asyncio.to_thread(_wait_for_port, port)
        # when mail arrives, then it is stored
        await smtp_send(port, eml("plain.eml"))
        [message] = await all_messages(served_db)
        assert message.properties["source"] == "smtp"
    finally:
        # and SIGTERM stops it cleanly
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert f"carepath smtp on 127.0.0.1:{port}" in stdout.decode()


async def test_carepath_serve_with_an_smtp_port_takes_mail_too(
    env: dict[str, str], served_db: Database
) -> None:
    port = free_port()
    with running_server(env, "--smtp-port", str(port)):
        await smtp_send(port, eml("plain.eml"))
    [message] = await all_messages(served_db)
    assert message.external_id == "CAFx3k2dQ7p1=Ann+refund@mail.example.com"
