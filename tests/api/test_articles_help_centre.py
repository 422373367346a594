"""The public help centre: pages, escaped snippets, votes, journeys, and the content-gap report."""

from __future__ import annotations

import re

import httpx

from carepath.actions.article_feedback import record_unanswered
from carepath.actions.identify import do_identify
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.storage import Database
from tests.api.articles_fixture import create_articles
from tests.factories import Company, bearer, make_company


async def _article(client: httpx.AsyncClient, acme: Company, slug: str) -> dict[str, object]:
    listed = await client.get("/v1/articles", headers=bearer(acme.agent_token))
    return next(a for a in listed.json()["items"] if a["slug"] == slug)


def _token(page: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


async def test_the_home_page_lists_published_web_articles_by_category(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given published articles, a draft, and one for chat only
    acme = await make_company(db, slug="acme-help")
    await create_articles(client, acme.supervisor_token)
    headers = bearer(acme.supervisor_token)
    await client.post("/v1/articles", json={"title": "Secret draft", "body": "x"}, headers=headers)
    chat_only = {"title": "Chat trick", "body": "x", "channels": ["chat"], "publish": True}
    await client.post("/v1/articles", json=chat_only, headers=headers)
    # when a customer opens the help centre
    page = await client.get("/help/acme-help")
    # then categories and their articles are listed, drafts and chat-only ones are not
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert "Returns and refunds" in html
    assert 'href="/help/acme-help/articles/refund-timing"' in html
    assert "Secret draft" not in html
    assert "Chat trick" not in html
    assert "<script" not in html
    # and an unknown help centre or a draft is not found
    assert (await client.get("/help/nobody")).status_code == 404
    draft = await client.get("/help/acme-help/articles/secret-draft")
    assert draft.status_code == 404


async def test_search_results_escape_everything_but_the_highlights(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given an article whose text shows markup as code
    acme = await make_company(db, slug="acme-esc")
    body = 'For a refund type `<script>alert("x")</script>` & press *Send*.'
    article = {"title": "Refund form", "body": body, "publish": True}
    await client.post("/v1/articles", json=article, headers=bearer(acme.supervisor_token))
    # when a customer searches for it with markup in the query
    page = await client.get("/help/acme-esc/search", params={"q": "refund <img src=x onerror=y>"})
    # then the snippet highlights the word and escapes the rest; the query is escaped too
    assert page.status_code == 200
    html = page.text
    assert "<mark>refund</mark>" in html
    # (PostgreSQL's ts_headline drops tag-like words itself; SQLite keeps them, escaped)
    assert "&lt;script&gt;" in html or "<mark>refund</mark> type" in html
    assert "&amp; press Send" in html
    assert "<script" not in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=y&gt;" in html
    assert re.search(r'href="/help/acme-esc/articles/refund-form\?s=kbs_[0-9a-f]+"', html)


async def test_an_article_page_is_sanitised_and_takes_one_vote_per_reader(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a published article with unsafe Markdown in it
    acme = await make_company(db, slug="acme-vote")
    body = "Refunds take 5 days.\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1))"
    article = {"title": "Refunds", "body": body, "publish": True}
    await client.post("/v1/articles", json=article, headers=bearer(acme.supervisor_token))
    # when a reader opens it
    page = await client.get("/help/acme-vote/articles/refunds")
    # then it is shown sanitised, with a vote form
    assert page.status_code == 200
    assert "<p>Refunds take 5 days.</p>" in page.text
    assert "<script>alert" not in page.text
    assert 'href="javascript' not in page.text
    assert "Was this helpful?" in page.text
    token = _token(page.text)
    # when they say it helped
    url = "/help/acme-vote/articles/refunds/feedback"
    voted = await client.post(url, data={"token": token, "helpful": "yes"})
    # then they are thanked and the count went up
    assert voted.status_code == 303
    assert voted.headers["location"] == "/help/acme-vote/articles/refunds?feedback=thanks"
    thanked = await client.get(voted.headers["location"])
    assert "Thank you for your feedback" in thanked.text
    assert (await _article(client, acme, "refunds"))["helpful_count"] == 1
    # when they vote again at once, it is not counted twice
    again = await client.post(url, data={"token": token, "helpful": "no"})
    assert again.headers["location"].endswith("feedback=again")
    counted = await _article(client, acme, "refunds")
    assert (counted["helpful_count"], counted["not_helpful_count"]) == (1, 0)
    # and a forged token is refused
    forged = await client.post(url, data={"token": token + "x", "helpful": "yes"})
    assert forged.status_code == 400


async def test_the_gap_report_groups_searches_without_a_good_answer(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given the help articles
    acme = await make_company(db, slug="acme-gaps")
    await create_articles(client, acme.supervisor_token)
    # when customers search for what no article covers, twice in other words
    await client.get("/help/acme-gaps/search", params={"q": "printer ink cartridges"})
    await client.get("/help/acme-gaps/search", params={"q": "Printer cartridge ink?"})
    # and for something only weakly matched, and for something answered
    await client.get("/help/acme-gaps/search", params={"q": "email"})
    answered = await client.get("/help/acme-gaps/search", params={"q": "my refund hasn't arrived"})
    # and a reader of the answered search says the article did not help
    link = re.search(r'href="(/help/acme-gaps/articles/refund-timing\?s=[^"]+)"', answered.text)
    assert link is not None
    page = await client.get(link.group(1))
    vote = {"token": _token(page.text), "helpful": "no"}
    await client.post("/help/acme-gaps/articles/refund-timing/feedback", data=vote)
    # and the assistant could not answer a turn
    async with db.uow() as uow:
        await record_unanswered(uow, acme.tenant.id, "Do you sell printer ink?", "printer_ink")
    # then the supervisor's report groups them by words and intent, biggest first
    report = await client.get("/v1/articles/gaps", headers=bearer(acme.supervisor_token))
    assert report.status_code == 200, report.text
    groups = {(g["words"], g["intent"]): g for g in report.json()["items"]}
    ink = groups[("cartridg ink printer", None)]
    assert (ink["count"], ink["no_hit"]) == (2, 2)
    assert report.json()["items"][0]["words"] == "cartridg ink printer"
    assert groups[("email", None)]["weak"] == 1
    not_helpful = groups[("arriv refund", None)]
    assert not_helpful["not_helpful"] == 1
    assert not_helpful["example"] == "my refund hasn't arrived"
    assert groups[("ink printer sell", "printer_ink")]["no_hit"] == 1
    # and agents may not read it
    denied = await client.get("/v1/articles/gaps", headers=bearer(acme.agent_token))
    assert denied.status_code == 403


async def test_a_known_visitors_reading_and_searching_joins_their_journey(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a customer known by their web visitor id
    acme = await make_company(db, slug="acme-journey")
    await create_articles(client, acme.supervisor_token)
    who = await do_identify(
        db, acme.tenant.id, [IdentityRef.of(IdentityKind.WEB_VISITOR, "visitor-7")], traits={}
    )
    # when they search (visitor in the URL) and read an article (visitor cookie)
    await client.get("/help/acme-journey/search", params={"q": "refund", "visitor": "visitor-7"})
    client.cookies.set("carepath_visitor", "visitor-7")
    await client.get("/help/acme-journey/articles/track-my-order")
    client.cookies.clear()
    # and a stranger reads one too
    await client.get("/help/acme-journey/articles/track-my-order?visitor=stranger")
    # then the customer's journey shows both, and nobody was made up for the stranger
    profile = await client.get(f"/v1/customers/{who.customer.id}", headers=bearer(acme.agent_token))
    journey = {(e["type"], e["name"]) for e in profile.json()["journey"]}
    assert ("search", "help_search") in journey
    assert ("article_view", "track-my-order") in journey
    customers = await client.get("/v1/customers", headers=bearer(acme.agent_token))
    assert len(customers.json()["items"]) == 1
