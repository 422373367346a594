"""`carepath customer export|erase` as an operator runs them for a data-subject request."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.contacts import Channel
from carepath.storage import Database
from tests.inbound import inbound
from tests.processes import carepath


async def _a_customer_writes(data_dir: Path, tenant_slug: str) -> str:
    db = Database(f"sqlite+aiosqlite:///{(data_dir / 'carepath.db').resolve()}")
    try:
        async with db.uow(write=False) as uow:
            tenant = await uow.tenants.by_slug(tenant_slug)
            assert tenant is not None
        message = inbound(tenant.id, Channel.SMS, "+31612345678", "my card 4111 1111 1111 1111")
        result = await do_ingest_inbound(db, message)
        return str(result.customer.id)
    finally:
        await db.dispose()


def test_an_operator_exports_then_erases_a_customer(env: dict[str, str], tmp_path: Path) -> None:
    assert carepath(env, "migrate").returncode == 0
    assert carepath(env, "tenant", "create", "acme", "--name", "Acme").returncode == 0
    customer = asyncio.run(_a_customer_writes(Path(env["CAREPATH_DATA_DIR"]), "acme"))

    out = tmp_path / "export.json"
    exported = carepath(env, "customer", "export", customer, "--tenant", "acme", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    document = json.loads(out.read_text())
    assert [m["text"] for m in document["messages"]] == ["my card **** **** **** 1111"]
    assert "+31612345678" in out.read_text()

    erased = carepath(env, "customer", "erase", customer, "--tenant", "acme", "--yes")
    assert erased.returncode == 0, erased.stderr
    after = carepath(env, "customer", "export", customer, "--tenant", "acme")
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["messages"] == []
    assert "+31612345678" not in after.stdout

    elsewhere = carepath(env, "customer", "export", customer, "--tenant", "nobody")
    assert elsewhere.returncode != 0
    assert "nobody" in elsewhere.stderr + elsewhere.stdout
