"""Exporting the live database to the contacts and journey-events tables, and the analytics
commands over it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path

from carepath.actions.cases import CaseChanges, do_update_case
from carepath.actions.identify import TrackedEvent, do_identify, do_track
from carepath.actions.ingest import do_ingest_inbound
from carepath.actions.merges import do_merge_customers
from carepath.analytics.export import CHANNEL_NAMES, batches, export, read_all
from carepath.analytics.schema import CONTACTS, JOURNEY_EVENTS
from carepath.analytics.sources import read_table
from carepath.analytics.validation import validate_table
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.domain.journey import JourneyEventType
from carepath.storage import Database
from tests.conftest import TEST_SECRET
from tests.factories import make_tenant, system
from tests.inbound import inbound
from tests.processes import CAREPATH


async def _history(db: Database) -> tuple[str, str, str]:
    """A tenant where Dana (segment premium) chats, then emails; Sam writes by SMS and is later
    merged into Dana; another tenant has a chat of its own. Returns (slug, dana, sam)."""
    tenant = await make_tenant(db)
    other = await make_tenant(db)
    dana = await do_identify(
        db,
        tenant.id,
        [IdentityRef.of(IdentityKind.WEB_VISITOR, "visitor-1")],
        traits={"segment": "premium"},
        verified=True,
    )
    start = utcnow() - timedelta(hours=3)
    await do_track(
        db,
        tenant.id,
        IdentityRef.of(IdentityKind.WEB_VISITOR, "visitor-1"),
        [TrackedEvent(JourneyEventType.ARTICLE_VIEW, "help/refunds", Channel.WEB, start)],
    )
    chat = await do_ingest_inbound(
        db, inbound(tenant.id, Channel.CHAT, "visitor-1", at=start + timedelta(minutes=5))
    )
    await do_update_case(db, system(tenant), chat.case.id, CaseChanges(intent="refund"))
    await do_ingest_inbound(
        db, inbound(tenant.id, Channel.SMS, "+16505550100", at=start + timedelta(hours=1))
    )
    sam = await do_ingest_inbound(
        db, inbound(tenant.id, Channel.SMS, "+16505550199", at=start + timedelta(hours=2))
    )
    await do_merge_customers(db, system(tenant), dana.customer.id, sam.customer.id)
    await do_ingest_inbound(db, inbound(other.id, Channel.CHAT, "visitor-2"))
    return tenant.slug, dana.customer.id, sam.customer.id


async def test_contacts_export_as_the_interchange_table(db: Database) -> None:
    # given the history above
    slug, dana, _sam = await _history(db)
    async with db.uow(write=False) as uow:
        tenant = await uow.tenants.by_slug(slug)
    assert tenant is not None

    # when the tenant's contacts are read in batches of 2
    table = await read_all(db, CONTACTS, tenant.id)
    pages = [batch.num_rows async for batch in batches(db, CONTACTS, tenant.id, batch_rows=2)]

    # then they are valid rows of this tenant only, in time order, Sam's under Dana's id
    assert validate_table(table)[1].ok
    found = table.to_pylist()
    assert [row["channel"] for row in found] == ["chat", "sms", "sms"]
    assert all(row["customer_id"] == dana for row in found[::2])
    assert found[0]["intent"] == "refund"
    assert found[0]["segment"] == "premium"
    assert found[0]["handled_by"] in {"agent", "assistant", "self_service"}
    assert pages == [2, 1]


async def test_journey_events_export(db: Database, tmp_path: Path) -> None:
    slug, dana, _sam = await _history(db)
    async with db.uow(write=False) as uow:
        tenant = await uow.tenants.by_slug(slug)
    assert tenant is not None
    done: list[tuple[int, int]] = []

    written = await export(
        db,
        JOURNEY_EVENTS,
        tenant.id,
        tmp_path / "events.csv",
        progress=lambda rows, total: done.append((rows, total)),
    )

    events = read_table(tmp_path / "events.csv", JOURNEY_EVENTS).to_pylist()
    assert written == len(events) == done[-1][0] == done[-1][1]
    article = next(e for e in events if e["type"] == "article_view")
    assert (article["customer_id"], article["channel"], article["name"]) == (
        dana,
        "web",
        "help/refunds",
    )
    assert json.loads(article["properties"]) == {}


def test_messenger_and_instagram_are_social() -> None:
    assert CHANNEL_NAMES == {"messenger": "social", "instagram": "social"}
    assert {Channel(name) for name in CHANNEL_NAMES} == {Channel.MESSENGER, Channel.INSTAGRAM}


async def test_the_commands_read_the_live_database(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    # given the history above in the test database
    slug, _dana, _sam = await _history(db)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CAREPATH_")},
        "CAREPATH_DATABASE_URL": database_url,
        "CAREPATH_SECRET_KEY": TEST_SECRET,
        "CAREPATH_DATA_DIR": str(tmp_path / "data"),
    }

    def carepath(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CAREPATH, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    # when the contacts are exported and the metrics computed without --input
    exported = carepath(
        "export", "contacts", "--tenant", slug, "--out", str(tmp_path / "c.parquet")
    )
    metrics = carepath("metrics", "--tenant", slug, "--by", "channel", "--json")
    movement = carepath("movement", "--tenant", slug, "--hours", "24", "--json")
    journeys = carepath("journeys", "--tenant", slug, "--json")
    ambiguous = carepath("metrics", "--json")

    # then both see the tenant's three contacts
    assert exported.returncode == 0, exported.stderr
    assert "wrote 3 contacts rows" in exported.stderr
    assert read_table(tmp_path / "c.parquet").num_rows == 3
    assert metrics.returncode == 0, metrics.stderr
    report = json.loads(metrics.stdout)
    assert report["input"] == "database"
    assert {row["channel"]: row["contacts"] for row in report["scorecard"]} == {"chat": 1, "sms": 2}
    # Dana's chat was followed by an SMS within 2 hours (Sam's, merged into hers)
    assert movement.returncode == 0, movement.stderr
    cell = {"from_channel": "chat", "to_channel": "sms", "contacts": 1, "moved": 1, "share": 1.0}
    assert cell in json.loads(movement.stdout)["cells"]
    # her journey: the article she read, the chat, the text (messages are not touchpoints again)
    assert journeys.returncode == 0, journeys.stderr
    paths = [v["path"] for v in json.loads(journeys.stdout)["variants"]]
    assert sorted(paths) == ["sms contact", "web article_view → chat contact → sms contact"]
    # with two tenants, the command asks which
    assert ambiguous.returncode == 1
    assert "name the tenant with --tenant" in ambiguous.stderr
