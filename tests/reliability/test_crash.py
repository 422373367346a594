"""Nothing lost, nothing doubled, while the server is killed with SIGKILL and restarted.

A load generator in another process sends signed SMS, WhatsApp, SMTP and widget messages to a
real `carepath serve` (SMTP listener and outbox worker inside), and agent replies that carepath
sends to the provider emulator (its own process). The harness kills the server at random
moments and starts it again. Afterwards: every acknowledged message exists exactly once, every
outbox item is done, and the emulator sent every outbound message exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from carepath.actions.delivery import DELIVER_MESSAGE
from carepath.domain.messages import Direction
from carepath.storage import Database
from carepath.storage import migrate as migrations
from carepath.storage.tables import messages, outbox
from tests import services
from tests.conftest import TEST_SECRET
from tests.processes import CAREPATH, free_port
from tests.reliability.crashing_server import CrashingServer
from tests.reliability.world import APP_SECRET, WHATSAPP_NUMBER_ID, Target, make_world
from tests.reliability_report import database_kind, record

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.timeout(110)]

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = 240
KILLS = 5
LEASE_S = 3  # a killed worker's items run again this soon (the default is 60 s)
SEED = 1207
SENT_KINDS = ("twilio.message", "whatsapp.message")


@pytest.fixture
async def crash_database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A database of its own: the server process and this test share it, nothing else."""
    server = services.test_database_url()
    if server is None:
        yield f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
        return
    services.need_postgres()
    async with services.fresh_postgres_database(server) as url:
        yield url


@pytest.fixture
def emulator_url(tmp_path: Path) -> Iterator[str]:
    """`carepath emulator` in its own process: it outlives every kill of the server."""
    port = free_port()
    with (tmp_path / "emulator.log").open("wb") as log:
        proc = subprocess.Popen(
            [*CAREPATH, "emulator", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/_emulator/requests", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def server_env(database_url: str, data_dir: Path, emulator: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAREPATH_")}
    return {
        **clean,
        "CAREPATH_DATABASE_URL": database_url,
        "CAREPATH_SECRET_KEY": TEST_SECRET,
        "CAREPATH_DATA_DIR": str(data_dir),
        "CAREPATH_TWILIO_API_URL": emulator,
        "CAREPATH_GRAPH_API_URL": emulator,
        "CAREPATH_OUTBOX_LEASE_S": str(LEASE_S),
        "CAREPATH_IMAP_POLL_INTERVAL_S": "0",
    }


async def kill_while_loading(
    server: CrashingServer, generator: asyncio.subprocess.Process, rng: random.Random
) -> None:
    while server.kills < KILLS and generator.returncode is None:
        await asyncio.sleep(rng.uniform(0.8, 3.0))
        await asyncio.to_thread(server.kill)
        await asyncio.sleep(rng.uniform(0.0, 0.5))  # down for a moment: providers retry
        await asyncio.to_thread(server.start)


async def outbox_settled(db: Database, within_s: float) -> dict[str, int]:
    """Outbox items by status once none is pending (or as they are at the deadline)."""
    deadline = time.monotonic() + within_s
    while True:
        async with db.engine.connect() as conn:
            rows = (
                await conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
            ).all()
        by_status = {str(status): int(n) for status, n in rows}
        if by_status.get("pending", 0) == 0 or time.monotonic() > deadline:
            return by_status
        await asyncio.sleep(0.25)


async def test_acknowledged_messages_survive_sigkill_once_and_replies_are_sent_once(
    crash_database_url: str, emulator_url: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    db = Database(crash_database_url)
    await migrations.upgrade(db)
    company = await make_world(db)
    server = CrashingServer(
        server_env(crash_database_url, tmp_path / "data", emulator_url), tmp_path / "server.log"
    )
    await asyncio.to_thread(server.start)
    async with httpx.AsyncClient(base_url=emulator_url) as emulator:
        await emulator.post(
            "/_emulator/whatsapp/status_webhook",
            json={
                "phone_number_id": WHATSAPP_NUMBER_ID,
                "url": f"{server.base_url}/webhooks/whatsapp/{company.tenant.slug}",
                "app_secret": APP_SECRET,
            },
        )
    target = Target(
        base_url=server.base_url,
        smtp_port=server.smtp_port,
        slug=company.tenant.slug,
        public_key=company.tenant.public_key,
        agent_token=company.agent_token,
    )
    (tmp_path / "target.json").write_text(json.dumps(target.to_dict()))
    acks_file = tmp_path / "acks.jsonl"
    try:
        # given a load generator in its own process
        generator = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.reliability.load_generator",
            str(tmp_path / "target.json"),
            str(acks_file),
            str(MESSAGES),
            str(SEED),
            cwd=ROOT,
        )
        # when the server is killed at random moments while it sends
        await kill_while_loading(server, generator, random.Random(SEED))
        assert await asyncio.wait_for(generator.wait(), 80) == 0
        settled = await outbox_settled(db, within_s=4 * LEASE_S + 10)
        async with httpx.AsyncClient(base_url=emulator_url) as emulator:
            sends = [
                r
                for r in (await emulator.get("/_emulator/requests")).json()
                if r["kind"] in SENT_KINDS
            ]
            replays = (await emulator.get("/_emulator/replays")).json()
    finally:
        await asyncio.to_thread(server.stop)
    acks = [json.loads(line) for line in acks_file.read_text().splitlines()]
    found = await inspect(db, acks, sends)
    await db.dispose()

    # then every acknowledged message exists exactly once
    inbound = [a for a in acks if a["kind"] == "inbound"]
    assert [a for a in acks if a["kind"] == "gave_up"] == []
    assert len(inbound) == MESSAGES
    assert found["inbound_copies"] == Counter({1: len(inbound)}), "lost or doubled"
    assert found["doubled_anywhere"] == 0
    replies = [a for a in acks if a["kind"] == "reply"]
    assert found["replies_stored"] == Counter({1: len(replies)})
    # every outbox item was done, none is still waiting or gave up
    assert set(settled) == {"done"}, (settled, found["unfinished"])
    # and every outbound message went to the provider exactly once
    assert found["sent_twice"] == [], "a message was sent twice"
    assert found["never_sent"] == [], "an outbox item was never delivered"
    assert found["outbound_not_recorded"] == []
    assert server.kills >= 3, f"only {server.kills} kills: the load ended too soon"
    record(
        "crash-sigkill",
        section="Nothing lost, nothing doubled",
        what=(
            "A load generator in another process sends signed SMS, WhatsApp, SMTP and widget "
            "messages (retrying until acknowledged) and agent replies to a real `carepath serve`, "
            "which is killed with SIGKILL at random moments and restarted; replies go out "
            "through the outbox to the provider emulator."
        ),
        counts={
            "messages acknowledged": len(inbound),
            **{
                f"  {channel}": sum(1 for a in inbound if a["channel"] == channel)
                for channel in ("sms", "whatsapp", "email", "chat")
            },
            "kills (SIGKILL)": server.kills,
            "replies acknowledged": len(replies),
            "replies cut off by a kill (not acknowledged)": sum(
                1 for a in acks if a["kind"] == "reply_unacknowledged"
            ),
            "outbox items done": settled.get("done", 0),
            "provider sends": len(sends),
            "repeats answered by Idempotency-Key": len(replays),
            "restart to ready (s, mean)": round(sum(server.restart_s) / len(server.restart_s), 2),
            "duration (s)": round(time.monotonic() - started, 1),
        },
        result=(
            f"every acknowledged message stored exactly once; {settled.get('done', 0)} outbox "
            f"items all done; {len(sends)} provider sends for {len(sends)} outbound messages, "
            f"none twice ({len(replays)} repeats after a kill answered from the idempotency key)"
        ),
        database=database_kind(),
    )


async def inspect(db: Database, acks: list[dict[str, Any]], sends: list[Any]) -> dict[str, Any]:
    """What the database and the emulator hold, against what was acknowledged."""
    async with db.engine.connect() as conn:
        inbound_rows = (
            await conn.execute(
                select(messages.c.channel, messages.c.external_id, func.count())
                .where(messages.c.direction == Direction.INBOUND)
                .group_by(messages.c.channel, messages.c.external_id)
            )
        ).all()
        outbound_rows = (
            await conn.execute(
                select(
                    messages.c.id,
                    messages.c.text,
                    messages.c.channel,
                    messages.c.external_id,
                    messages.c.delivery_status,
                ).where(messages.c.direction == Direction.OUTBOUND)
            )
        ).all()
        items = (
            await conn.execute(
                select(outbox.c.id, outbox.c.payload).where(outbox.c.kind == DELIVER_MESSAGE)
            )
        ).all()
        unfinished = (
            await conn.execute(
                select(
                    outbox.c.kind, outbox.c.attempts, outbox.c.last_error, outbox.c.available_at
                ).where(outbox.c.status != "done")
            )
        ).all()
    stored = {(str(ch), ext): n for ch, ext, n in inbound_rows}
    inbound = [a for a in acks if a["kind"] == "inbound"]
    reply_ids = Counter(str(row.id) for row in outbound_rows)
    provider_outbound = {
        str(row.id): row for row in outbound_rows if str(row.channel) in ("sms", "whatsapp")
    }
    item_of_message = {
        str(item.payload["message_id"]): str(item.id)
        for item in items
        if str(item.payload["message_id"]) in provider_outbound
    }
    # Each reply's text is unique: a text the emulator sent twice is a message sent twice,
    # however the sends were keyed.
    texts = Counter(sent_text(s) for s in sends)
    text_of = {str(row.id): str(row.text) for row in outbound_rows}
    return {
        "inbound_copies": Counter(stored.get((a["channel"], a["external_id"]), 0) for a in inbound),
        "doubled_anywhere": sum(1 for n in stored.values() if n > 1),
        "replies_stored": Counter(
            reply_ids.get(a["message_id"], 0) for a in acks if a["kind"] == "reply"
        ),
        "unfinished": [tuple(row) for row in unfinished],
        "sent_twice": [text for text, n in texts.items() if n > 1],
        "never_sent": [m for m in item_of_message if texts[text_of[m]] == 0],
        "outbound_not_recorded": [
            m
            for m, row in provider_outbound.items()
            if row.external_id is None or str(row.delivery_status) == "queued"
        ],
    }


def sent_text(send: dict[str, Any]) -> str:
    if send["kind"] == "twilio.message":
        return str(send["form"]["Body"])
    return str(send["json"]["text"]["body"])
