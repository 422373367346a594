"""The tenant configuration over the API: applied whole or refused whole, versioned, readable."""

from __future__ import annotations

from pathlib import Path

import httpx

from carepath.storage import Database
from tests.factories import Company, bearer, make_company, make_user

EXAMPLE = (Path(__file__).parents[2] / "examples" / "tenant.yaml").read_text()


async def with_the_example_agents(db: Database, company: Company) -> None:
    """The users the example file's `agents` name (a file naming unknown users is refused)."""
    for email in ("ann@acme.example.com", "bob@acme.example.com"):
        await make_user(db, company.tenant, email=email)


async def put_yaml(client: httpx.AsyncClient, token: str, text: str) -> httpx.Response:
    return await client.put(
        "/v1/tenant/config",
        content=text.encode(),
        headers={**bearer(token), "Content-Type": "application/yaml"},
    )


async def test_a_supervisor_applies_the_file_and_everyone_reads_the_strategy(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db, slug="acme")
    await with_the_example_agents(db, company)
    before = await client.get("/v1/tenant/config", headers=bearer(company.agent_token))
    assert before.json()["version"] == 0
    applied = await put_yaml(client, company.supervisor_token, EXAMPLE)
    assert applied.status_code == 200, applied.text
    assert applied.json()["version"] == 1
    again = await put_yaml(client, company.supervisor_token, EXAMPLE)
    assert again.json()["version"] == 1  # unchanged: no new version
    treatment = await client.get(
        "/v1/tenant/strategy",
        params={"intent": "refund_not_received", "channel": "voice"},
        headers=bearer(company.agent_token),
    )
    assert treatment.json()["treatment"] == "offer_digital"
    assert treatment.json()["skill"] == "returns"


async def test_an_invalid_file_changes_nothing_and_lists_every_error(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db, slug="acme")
    await with_the_example_agents(db, company)
    await put_yaml(client, company.supervisor_token, EXAMPLE)
    broken = EXAMPLE.replace("skill: returns\n", "skill: refunds\n").replace(
        "min_proficiency: 3", "min_proficiency: 0"
    )
    refused = await put_yaml(client, company.supervisor_token, broken)
    assert refused.status_code == 422
    errors = refused.json()["error"]["data"]["errors"]
    assert [e["loc"] for e in errors] == ["routing.min_proficiency"]
    assert errors[0]["line"] > 1
    current = await client.get("/v1/tenant/config", headers=bearer(company.agent_token))
    assert current.json()["version"] == 1


async def test_a_file_for_another_tenant_is_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db, slug="other")
    refused = await put_yaml(client, company.admin_token, EXAMPLE)
    assert refused.status_code == 422
    assert "is for tenant 'acme'" in refused.json()["error"]["message"]


async def test_agents_cannot_change_the_configuration(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db, slug="acme")
    assert (await put_yaml(client, company.agent_token, EXAMPLE)).status_code == 403
