"""An erased person's knowledge-base searches stay counted for the content-gap figures but lose
their words, and drop out of the gap report; other people's searches are untouched."""

from __future__ import annotations

import httpx
from sqlalchemy import select, update

from carepath.actions.article_feedback import do_search_help_centre, record_unanswered
from carepath.actions.identify import do_identify
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.storage import Database
from carepath.storage.tables import kb_searches
from tests.factories import bearer, make_company

EMAIL = "grace@example.com"
VISITOR = "visitor-grace-51"


async def test_erasure_empties_the_persons_searches_and_keeps_the_rows_for_the_figures(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a person who searched as a known visitor, once anonymously naming her email, and
    # whose question the assistant could not answer; and someone else's search
    company = await make_company(db)
    tenant = company.tenant.id
    who = await do_identify(
        db,
        tenant,
        [
            IdentityRef.of(IdentityKind.EMAIL, EMAIL),
            IdentityRef.of(IdentityKind.WEB_VISITOR, VISITOR),
        ],
    )
    await do_search_help_centre(db, tenant, "lost parcel tracking", visitor=VISITOR)
    # a search from before searches named the customer (migration 0014 left those null): only
    # her journey event links it to her
    await do_search_help_centre(db, tenant, "refund for my wig", visitor=VISITOR)
    async with db.engine.begin() as conn:
        await conn.execute(
            update(kb_searches)
            .where(kb_searches.c.query == "refund for my wig")
            .values(customer_id=None)
        )
    # typed in other letters than her stored (lower-case) address
    await do_search_help_centre(db, tenant, f"reset password for {EMAIL.title()}")
    async with db.uow() as uow:
        await record_unanswered(
            uow, tenant, "is my pacemaker covered", "coverage", customer_id=who.customer.id
        )
    await do_search_help_centre(db, tenant, "printer ink cartridges")

    # when an admin erases her
    erased = await client.post(
        f"/v1/customers/{who.customer.id}/erase", headers=bearer(company.admin_token)
    )

    # then her four searches lost their words, the other one kept them, and all five rows stay
    assert erased.status_code == 200, erased.text
    assert erased.json()["counts"]["searches_redacted"] == 4
    async with db.engine.connect() as conn:
        rows = (await conn.execute(select(kb_searches.c.query, kb_searches.c.words))).all()
    assert sorted(tuple(row) for row in rows) == [
        ("", ""),
        ("", ""),
        ("", ""),
        ("", ""),
        ("printer ink cartridges", "cartridg ink printer"),
    ]
    # and her export still lists them (the person's record), without words
    export = await client.get(
        f"/v1/customers/{who.customer.id}/export", headers=bearer(company.admin_token)
    )
    assert [s["query"] for s in export.json()["searches"]] == ["", ""]
    # and the gap report shows only what is left to read
    report = await client.get("/v1/articles/gaps", headers=bearer(company.supervisor_token))
    assert [g["words"] for g in report.json()["items"]] == ["cartridg ink printer"]


async def test_erasure_finds_her_phone_number_typed_in_another_form_in_anonymous_searches(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a person known by her phone, anonymous searches that name her number as people
    # type it, and searches with numbers that are not hers
    company = await make_company(db)
    tenant = company.tenant.id
    who = await do_identify(db, tenant, [IdentityRef.of(IdentityKind.PHONE, "+16505550101")])
    hers = ["call me back on (650) 555-0101", "sms to 650.555.0101 not arriving"]
    others = ["call me back on (650) 555-0199", "my order 5550101 was lost"]
    for text in hers + others:
        await do_search_help_centre(db, tenant, text)
    # when an admin erases her
    erased = await client.post(
        f"/v1/customers/{who.customer.id}/erase", headers=bearer(company.admin_token)
    )
    # then the two searches with her number lost their words, and the others kept theirs
    assert erased.status_code == 200, erased.text
    assert erased.json()["counts"]["searches_redacted"] == 2
    async with db.engine.connect() as conn:
        left = (await conn.execute(select(kb_searches.c.query))).scalars().all()
    assert sorted(left) == sorted(["", "", *others])
