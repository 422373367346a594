"""`carepath worker` as an operator runs it: a real process that delivers until SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import pytest

from carepath.actions import do_create_webhook
from carepath.domain.outbox import OutboxStatus
from carepath.storage import Database
from carepath.storage import migrate as migrations
from tests.factories import make_tenant, system
from tests.processes import CAREPATH
from tests.receiver import Receiver


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    return {
        **env,
        # The receiver listens on loopback.
        "CAREPATH_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    }


async def test_the_worker_delivers_webhooks_until_sigterm_then_exits_cleanly(
    env: dict[str, str], tmp_path: Path
) -> None:
    # given a migrated database with an event queued for a receiver
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'carepath.db'}")
    try:
        await migrations.upgrade(db)
        tenant = await make_tenant(db)
        async with Receiver() as receiver:
            await do_create_webhook(
                db, system(tenant), url=receiver.url, event_types=["*"], allow_private=True
            )
            async with db.uow() as uow:
                event = await uow.events.append(tenant.id, "case.updated", {"case_id": "c1"})
            # when `carepath worker` runs
            process = await asyncio.create_subprocess_exec(
                *CAREPATH,
                "worker",
                "--concurrency",
                "2",
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                # then the event is delivered
                [request] = await receiver.wait_for(1, within_s=30)
            finally:
                # and SIGTERM stops it cleanly
                process.send_signal(signal.SIGTERM)
                stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, stderr.decode()
        assert request.headers["x-carepath-event-id"] == str(event.seq)
        assert "carepath worker" in stdout.decode()
        assert "outbox worker" in stderr.decode()  # its log: started ... stopped
        assert "stopped" in stderr.decode()
        async with db.uow(write=False) as uow:
            page = await uow.outbox.list(tenant.id, status=None, limit=10, cursor=None)
        assert [item.status for item in page.items] == [OutboxStatus.DONE]
    finally:
        await db.dispose()


def test_the_worker_refuses_a_database_that_is_not_migrated(env: dict[str, str]) -> None:
    # given an empty database, when the worker starts
    result = subprocess.run(
        [*CAREPATH, "worker"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    # then it says what to do and exits with the configuration error code
    assert result.returncode == 2
    assert "carepath migrate" in result.stderr
