"""Who read or changed which case: recorded on every API and workspace read and every change,
listed for supervisors, cheap enough for the hot path."""

from __future__ import annotations

import time

import httpx
from fastapi import FastAPI

from carepath.actions.ingest import do_ingest_inbound
from carepath.actions.personal_data import do_record_case_access
from carepath.domain.contacts import Channel
from carepath.storage import Database
from carepath.types import Role
from tests.api.ui_session import log_in
from tests.factories import bearer, make_company, make_user, system
from tests.inbound import inbound
from tests.reliability_report import record

TIMED_READS = 200


async def test_reads_and_changes_of_a_case_are_listed_for_supervisors_only(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    company, other = await make_company(db), await make_company(db)
    agent = await make_user(db, company.tenant, Role.AGENT)
    supervisor = await make_user(db, company.tenant, Role.SUPERVISOR)
    case_id = (
        await do_ingest_inbound(db, inbound(company.tenant.id, Channel.SMS, "+16505550123"))
    ).case.id
    token = bearer(company.agent_token)

    assert (await client.get(f"/v1/cases/{case_id}", headers=token)).status_code == 200
    await client.patch(f"/v1/cases/{case_id}", json={"priority": "high"}, headers=token)
    await client.post(f"/v1/cases/{case_id}/notes", json={"text": "checked"}, headers=token)
    agent_browser = await log_in(app, company, agent)
    agent_page = await agent_browser.get(f"/app/cases/{case_id}")
    boss = await log_in(app, company, supervisor)
    boss_page = await boss.get(f"/app/cases/{case_id}")
    # Another tenant's read is refused before anything is recorded.
    foreign = await client.get(f"/v1/cases/{case_id}", headers=bearer(other.agent_token))

    assert foreign.status_code == 404
    assert agent_page.status_code == 200
    assert 'id="case-trail"' not in agent_page.text
    assert boss_page.status_code == 200
    assert 'id="case-trail"' in boss_page.text
    assert agent.display_name in boss_page.text
    listed = await client.get(
        f"/v1/cases/{case_id}/audit", headers=bearer(company.supervisor_token)
    )
    assert listed.status_code == 200, listed.text
    trail = [(e["action"], e["detail"]) for e in listed.json()["items"]]
    assert trail == [
        ("read", "workspace"),  # the supervisor's own page view, newest first
        ("read", "workspace"),
        ("note_added", None),
        ("updated", "priority"),
        ("read", "api"),
    ]
    actors = {e["actor"] for e in listed.json()["items"]}
    assert f"user:{agent.id}" in actors
    assert f"user:{supervisor.id}" in actors
    assert any(a.startswith("token:") for a in actors)
    refused = await client.get(f"/v1/cases/{case_id}/audit", headers=token)
    assert refused.status_code == 403
    hidden = await client.get(f"/v1/cases/{case_id}/audit", headers=bearer(other.supervisor_token))
    assert hidden.status_code == 404
    await agent_browser.http.aclose()
    await boss.http.aclose()

    started = time.perf_counter()
    for _ in range(TIMED_READS):
        await do_record_case_access(db, system(company.tenant), case_id, "read", "api")
    per_read_ms = (time.perf_counter() - started) / TIMED_READS * 1000
    record(
        "case-access-trail",
        section="Personal data",
        what="A case is read through the API and the workspace and changed by an agent; the "
        "supervisor lists its trail; other roles and tenants try; then the cost of one "
        "recorded read is timed.",
        counts={
            "reads recorded": 3,
            "changes recorded": 2,
            "refusals checked": 3,
            "timed reads": TIMED_READS,
            "ms per recorded read": round(per_read_ms, 2),
        },
        result="every read and change listed with who and when, newest first; agents 403, "
        "another tenant 404; one INSERT per read",
    )
