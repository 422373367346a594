"""The page a "continue in chat" link opens: the widget on the caller's case, or a clear page
saying why the link no longer works."""

from __future__ import annotations

import functools

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from carepath.channels.widget.continuation import CONTINUE_LIFETIME, read_continuation
from carepath.errors import AuthenticationRequired
from carepath.web.deps import DB, get_state

router = APIRouter(include_in_schema=False)
# The token is a credential for the conversation: keep it out of caches and referrers.
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@functools.cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("carepath.web", "templates"), autoescape=select_autoescape()
    )


def _page(status: int, **values: object) -> HTMLResponse:
    page = _templates().get_template("continue_chat.html").render(**values)
    return HTMLResponse(page, status_code=status, headers=HEADERS)


@router.get("/t/{slug}/continue", response_class=HTMLResponse)
async def continue_in_chat(
    slug: str, request: Request, db: DB, token: str = Query(default="", max_length=1000)
) -> HTMLResponse:
    async with db.uow(write=False) as uow:
        tenant = await uow.tenants.by_slug(slug)
    if tenant is None:
        return _page(
            404,
            company="carepath",
            title="Page not found",
            message="There is no company at this address.",
            problem=True,
        )
    try:
        continuation = read_continuation(get_state(request).settings.secret(), token)
        if continuation.tenant_id != tenant.id:
            raise AuthenticationRequired("not this tenant's link", reason="invalid_continue_token")
    except AuthenticationRequired as exc:
        expired = exc.data.get("reason") == "continue_expired"
        minutes = int(CONTINUE_LIFETIME.total_seconds() // 60)
        return _page(
            410 if expired else 400,
            company=tenant.name,
            title="This link has expired" if expired else "This link does not work",
            message=(
                f"Links to continue in chat work for {minutes} minutes. Call us again, or "
                "open the chat on our website: your conversation is kept."
                if expired
                else "The link is incomplete or was changed. Copy the whole link from the text "
                "message, or open the chat on our website."
            ),
            problem=True,
        )
    return _page(
        200,
        company=tenant.name,
        title="Continue in chat",
        message=f"Welcome back. Continue your conversation with {tenant.name} in the chat.",
        problem=False,
        script_url=str(request.url_for("widget_script")),
        public_key=tenant.public_key,
        token=token,
    )
