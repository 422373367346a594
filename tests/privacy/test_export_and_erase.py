"""Right of access and right to erasure, through the API as an admin would use them."""

from __future__ import annotations

from pathlib import Path

import httpx

from carepath.actions.article_feedback import do_search_help_centre
from carepath.actions.identify import TrackedEvent, do_identify, do_track
from carepath.actions.ingest import do_ingest_inbound
from carepath.domain.attachments import Attachment
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.domain.journey import JourneyEventType
from carepath.settings import Settings
from carepath.storage import Database
from carepath.storage.files import AttachmentStore
from tests.factories import Company, bearer, make_company
from tests.inbound import inbound
from tests.privacy.scan import find, find_in_files, text_columns
from tests.reliability_report import record

EMAIL = "ada@example.com"
PHONE = "+16505550142"
NAME = "Ada Lovelace"
# Every piece of text this person wrote or was written about carries this marker.
MARK = "ZQX-"
FILE = b"scan of my passport ZQX-file"
VISITOR = "visitor-ada-7f3c"


async def _searches(db: Database, c: Company) -> None:
    """Ada searches the help centre as a visitor carepath knows, and once anonymously with her
    email address in the words."""
    tenant = c.tenant.id
    await do_identify(
        db,
        tenant,
        [
            IdentityRef.of(IdentityKind.EMAIL, EMAIL),
            IdentityRef.of(IdentityKind.WEB_VISITOR, VISITOR),
        ],
    )
    await do_search_help_centre(db, tenant, "refund for order ZQX-7781", visitor=VISITOR)
    await do_search_help_centre(db, tenant, f"account {EMAIL} locked")


async def _ada(db: Database, settings: Settings, client: httpx.AsyncClient, c: Company) -> str:
    """One person known twice (email, SMS), merged, with an attachment, a note, a subject,
    traits and a tracked journey event. Returns the SMS customer's id (the merged-away one)."""
    tenant = c.tenant.id
    sha = AttachmentStore(settings.data_dir / "attachments").put(FILE)
    stored = Attachment("passport.pdf", "application/pdf", len(FILE), sha256=sha, stored=True)
    by_email = await do_ingest_inbound(
        db,
        inbound(
            tenant, Channel.EMAIL, EMAIL, "my order ZQX-4471 never came", attachments=(stored,)
        ),
    )
    by_sms = await do_ingest_inbound(db, inbound(tenant, Channel.SMS, PHONE, "sms ZQX-9902"))
    await do_identify(
        db,
        tenant,
        [IdentityRef.of(IdentityKind.EMAIL, EMAIL)],
        traits={"name": NAME, "city": "Paris ZQX-city"},
    )
    await do_track(
        db,
        tenant,
        IdentityRef.of(IdentityKind.EMAIL, EMAIL),
        [
            TrackedEvent(
                JourneyEventType.FORM_STARTED,
                "return_form",
                Channel.WEB,
                None,
                {"order": "ZQX-5555"},
            )
        ],
    )
    agent = bearer(c.agent_token)
    case_id = by_email.case.id
    for response in (
        await client.post(
            f"/v1/customers/{by_email.customer.id}/merge",
            json={"merged_id": by_sms.customer.id, "reason": "same person ZQX-reason"},
            headers=agent,
        ),
        await client.post(
            f"/v1/cases/{case_id}/notes", json={"text": "called, ZQX-note"}, headers=agent
        ),
        await client.patch(
            f"/v1/cases/{case_id}", json={"subject": "refund ZQX-subject"}, headers=agent
        ),
    ):
        assert response.status_code < 300, response.text
    return by_sms.customer.id


async def test_an_admin_exports_everything_about_a_customer_and_nobody_else_can(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    company, other = await make_company(db), await make_company(db)
    merged_away = await _ada(db, settings, client, company)

    response = await client.get(
        f"/v1/customers/{merged_away}/export", headers=bearer(company.admin_token)
    )

    assert response.status_code == 200, response.text
    export = response.json()
    assert export["format"] == "carepath.customer-export/1"
    assert {(i["kind"], i["value"]) for i in export["identities"]} == {
        ("email", EMAIL),
        ("phone", PHONE),
    }
    assert [m["text"] for m in export["messages"]] == [
        "my order ZQX-4471 never came",
        "sms ZQX-9902",
    ]
    assert [n["text"] for n in export["notes"]] == ["called, ZQX-note"]
    assert {c["subject"] for c in export["cases"]} >= {"refund ZQX-subject"}
    assert len(export["customers"]) == 2
    assert len(export["merges"]) == 1
    assert any(c["name"] == NAME for c in export["customers"])
    assert any(e["properties"] == {"order": "ZQX-5555"} for e in export["journey_events"])
    assert len(export["contacts"]) == 2
    [attachment] = export["attachments"]
    fetched = await client.get(attachment["url"], headers=bearer(company.admin_token))
    assert fetched.status_code == 200
    assert fetched.content == FILE
    # An agent may not take everything out; another tenant does not learn the customer exists.
    agent = await client.get(
        f"/v1/customers/{merged_away}/export", headers=bearer(company.agent_token)
    )
    assert agent.status_code == 403
    for path in (f"/v1/customers/{merged_away}/export", attachment["url"]):
        assert (await client.get(path, headers=bearer(other.admin_token))).status_code == 404
    audit = await client.get(
        "/v1/audit", params={"subject": export["customer_id"]}, headers=bearer(company.admin_token)
    )
    assert "customer.exported" in [e["action"] for e in audit.json()["items"]]
    record(
        "customer-export",
        section="Personal data",
        what="A customer known by email and SMS, merged, with an attachment, a note, traits and "
        "a tracked event is exported as JSON by an admin; an agent and another tenant try too.",
        counts={
            "sections": len(export),
            "messages": len(export["messages"]),
            "notes": len(export["notes"]),
            "identities": len(export["identities"]),
            "attachments fetched": 1,
            "refusals checked": 3,
        },
        result="everything came out (attachment contents byte for byte); agent 403, other "
        "tenant 404 on the export and the file; the export is audited",
    )


async def test_erasure_leaves_nothing_personal_in_any_table_or_file_and_is_idempotent(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    company = await make_company(db)
    merged_away = await _ada(db, settings, client, company)
    await _searches(db, company)
    needles = [EMAIL, PHONE, NAME, MARK]
    before = await find(db, needles)
    assert before, "the scan finds the person before erasure (or it proves nothing)"
    assert "kb_searches.query" in before
    admin = bearer(company.admin_token)
    refused = await client.post(
        f"/v1/customers/{merged_away}/erase", headers=bearer(company.supervisor_token)
    )
    assert refused.status_code == 403

    erased = await client.post(f"/v1/customers/{merged_away}/erase", headers=admin)

    assert erased.status_code == 200, erased.text
    body = erased.json()
    assert len(body["customer_ids"]) == 2
    assert body["already_erased"] is False
    counts = body["counts"]
    assert (counts["messages"], counts["notes"], counts["identities"]) == (2, 1, 3)
    assert counts["searches_redacted"] == 2
    assert counts["files_removed"] == 1
    assert counts["journey_events_anonymised"] >= 1
    assert await find(db, needles) == {}
    assert find_in_files(Path(settings.data_dir), [MARK]) == []
    # Journey events stay for the aggregates, without a way back to the person.
    export = (await client.get(f"/v1/customers/{merged_away}/export", headers=admin)).json()
    assert export["messages"] == []
    assert export["identities"] == []
    assert export["journey_events"]
    assert all(e["properties"] == {} for e in export["journey_events"])
    audit = await client.get("/v1/audit", params={"subject": body["customer_id"]}, headers=admin)
    [entry] = [e for e in audit.json()["items"] if e["action"] == "customer.erased"]
    assert entry["data"]["messages"] == 2
    assert entry["actor"].startswith("token:")

    again = await client.post(f"/v1/customers/{merged_away}/erase", headers=admin)
    assert again.status_code == 200
    assert again.json()["already_erased"] is True
    audit = await client.get("/v1/audit", params={"subject": body["customer_id"]}, headers=admin)
    assert [e["action"] for e in audit.json()["items"]].count("customer.erased") == 1

    later = await do_ingest_inbound(db, inbound(company.tenant.id, Channel.SMS, PHONE, "hi again"))
    assert later.customer.id not in body["customer_ids"]
    assert later.case.id not in {c["id"] for c in export["cases"]}
    record(
        "customer-erasure",
        section="Personal data",
        what="The same merged customer is erased by an admin; every text and JSON column of "
        "every table and every stored file is searched for their email, phone, name and words; "
        "the erasure is repeated; the same phone writes again.",
        counts={
            "columns scanned": len(text_columns()),
            "hits before": sum(before.values()),
            "hits after": 0,
            "messages deleted": counts["messages"],
            "notes deleted": counts["notes"],
            "identities removed": counts["identities"],
            "files removed": counts["files_removed"],
            "journey events anonymised": counts["journey_events_anonymised"],
            "searches redacted": counts["searches_redacted"],
        },
        result="nothing of the person left in any table or file; audited once with counts "
        "only; a second erasure changes nothing; the next SMS from the number is a new customer",
    )
