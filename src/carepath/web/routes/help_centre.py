"""The public help centre of a tenant, server-rendered: articles by category, search with
snippets, article pages with a helpful / not helpful vote."""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from carepath.actions.article_feedback import (
    do_rate_article,
    do_record_article_view,
    do_search_help_centre,
)
from carepath.domain.contacts import Channel
from carepath.domain.tenants import Tenant
from carepath.errors import InvalidInput
from carepath.knowledge.articles import ArticleStatus
from carepath.knowledge.feedback import FeedbackTicket, VoteLimiter, read_ticket, sign_ticket
from carepath.knowledge.render import render_html
from carepath.storage import Database
from carepath.web.deps import DB, get_state

router = APIRouter(prefix="/help", include_in_schema=False)

VISITOR_COOKIE = "carepath_visitor"
UNCATEGORISED = "General"
# Pages hold no script and load nothing from elsewhere; say so, so an injected one would not run.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src 'self' https: data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
Visitor = Annotated[str | None, Query(max_length=200, description="A known visitor id.")]


@functools.cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("carepath.web", "templates"), autoescape=select_autoescape()
    )


def _page(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = _templates().get_template(f"help/{name}").render(**context)
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)


async def _tenant(db: Database, slug: str) -> Tenant | None:
    async with db.uow(write=False) as uow:
        return await uow.tenants.by_slug(slug)


def _missing(what: str) -> HTMLResponse:
    message = f"{what[0].upper()}{what[1:]} not found, or no longer available."
    return _page("missing.html", status_code=404, message=message, company=None)


def _visitor(request: Request, visitor: str | None) -> str | None:
    return visitor or request.cookies.get(VISITOR_COOKIE)


def _limiter(request: Request) -> VoteLimiter:
    limiter: VoteLimiter | None = getattr(request.app.state, "help_vote_limiter", None)
    if limiter is None:
        limiter = request.app.state.help_vote_limiter = VoteLimiter()
    return limiter


@router.get("/{tenant_slug}", response_class=HTMLResponse)
async def help_home(tenant_slug: str, db: DB) -> HTMLResponse:
    tenant = await _tenant(db, tenant_slug)
    if tenant is None:
        return _missing("help centre")
    async with db.uow(write=False) as uow:
        articles = await uow.articles.published(tenant.id, channel=Channel.WEB)
    categories: dict[str, list[Any]] = defaultdict(list)
    for article in articles:
        categories[article.category or UNCATEGORISED].append(article)
    return _page(
        "index.html",
        company=tenant.name,
        slug=tenant.slug,
        categories=sorted(categories.items()),
    )


@router.get("/{tenant_slug}/search", response_class=HTMLResponse)
async def help_search(
    tenant_slug: str,
    request: Request,
    db: DB,
    q: Annotated[str, Query(max_length=500)] = "",
    visitor: Visitor = None,
) -> HTMLResponse:
    tenant = await _tenant(db, tenant_slug)
    if tenant is None:
        return _missing("help centre")
    hits: list[dict[str, Any]] = []
    search_id = None
    if q.strip():
        result = await do_search_help_centre(
            db, tenant.id, q, channel=Channel.WEB, visitor=_visitor(request, visitor)
        )
        search_id = result.record.id
        # Snippets arrive escaped, with only the <mark> elements search added.
        hits = [
            {"slug": h.slug, "title": h.title, "snippet": Markup(h.snippet)}  # noqa: S704
            for h in result.hits
        ]
    return _page(
        "search.html",
        company=tenant.name,
        slug=tenant.slug,
        query=q,
        hits=hits,
        search_id=search_id,
    )


@router.get("/{tenant_slug}/articles/{article_slug}", response_class=HTMLResponse)
async def help_article(
    tenant_slug: str,
    article_slug: str,
    request: Request,
    db: DB,
    s: Annotated[str | None, Query(max_length=60, description="The search it came from.")] = None,
    feedback: Annotated[str | None, Query(max_length=20)] = None,
    visitor: Visitor = None,
) -> HTMLResponse:
    tenant = await _tenant(db, tenant_slug)
    if tenant is None:
        return _missing("help centre")
    async with db.uow(write=False) as uow:
        article = await uow.articles.by_slug(tenant.id, article_slug)
    if (
        article is None
        or article.status is not ArticleStatus.PUBLISHED
        or not article.visible_on(Channel.WEB)
    ):
        return _missing("article")
    await do_record_article_view(db, tenant.id, article, _visitor(request, visitor))
    secret = get_state(request).settings.secret()
    token = sign_ticket(secret, FeedbackTicket(tenant.id, article.id, s))
    return _page(
        "article.html",
        company=tenant.name,
        slug=tenant.slug,
        article=article,
        # Sanitised by nh3 with an allowlist (knowledge/render.py).
        html=Markup(render_html(article.body)),  # noqa: S704
        token=token,
        feedback=feedback if feedback in {"thanks", "again"} else None,
    )


@router.post("/{tenant_slug}/articles/{article_slug}/feedback")
async def help_feedback(
    tenant_slug: str,
    article_slug: str,
    request: Request,
    db: DB,
    token: Annotated[str, Form(max_length=1000)],
    helpful: Annotated[str, Form(pattern="^(yes|no)$")],
) -> Response:
    secret = get_state(request).settings.secret()
    try:
        ticket = read_ticket(secret, token)
    except InvalidInput as exc:
        return _page("missing.html", status_code=400, message=exc.message, company=None)
    tenant = await _tenant(db, tenant_slug)
    if tenant is None or tenant.id != ticket.tenant_id:
        return _missing("help centre")
    address = request.client.host if request.client else "unknown"
    outcome = "again"
    if _limiter(request).allow(address, ticket.article_id):
        await do_rate_article(
            db, tenant.id, ticket.article_id, helpful=helpful == "yes", search_id=ticket.search_id
        )
        outcome = "thanks"
    url = request.url_for("help_article", tenant_slug=tenant.slug, article_slug=article_slug)
    return RedirectResponse(f"{url.path}?feedback={outcome}", status_code=303)
