"""The widget's script (`/widget.js`) and, in demo mode, a demo customer site that embeds it."""

from __future__ import annotations

import functools
import hashlib
from importlib import resources
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from carepath.actions.claims import user_hash
from carepath.errors import NotFound
from carepath.web.deps import DB, get_state

router = APIRouter(include_in_schema=False)

# Pages embed the script without a version in its URL: a day fresh, then revalidated by ETag.
SCRIPT_CACHE = "public, max-age=86400, stale-while-revalidate=604800"


@functools.cache
def _script() -> tuple[bytes, str]:
    body = (resources.files("carepath.web") / "static" / "widget.js").read_bytes()
    return body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'


@functools.cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("carepath.web", "templates"), autoescape=select_autoescape()
    )


@router.get("/widget.js")
async def widget_script(request: Request) -> Response:
    body, etag = _script()
    headers = {"ETag": etag, "Cache-Control": SCRIPT_CACHE, "X-Content-Type-Options": "nosniff"}
    wanted = request.headers.get("if-none-match", "")
    if etag in (tag.strip().removeprefix("W/") for tag in wanted.split(",")):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/t/{slug}/demo", response_class=HTMLResponse)
async def demo_site(
    slug: str,
    request: Request,
    db: DB,
    user: str | None = Query(default=None, min_length=1, max_length=200),
    name: str | None = Query(default=None, max_length=200),
    email: str | None = Query(default=None, max_length=320),
) -> HTMLResponse:
    """A shop page of the tenant with the widget. `?user=ID` signs that user in: this page
    plays the company's backend and signs any user id it is given, which is why it exists only
    in demo mode."""
    if not get_state(request).settings.demo_mode:
        raise NotFound("the demo site runs in demo mode only (`carepath demo`)", kind="page")
    async with db.uow(write=False) as uow:
        tenant = await uow.tenants.by_slug(slug)
    if tenant is None:
        raise NotFound("tenant not found", kind="tenant")
    signed_in: dict[str, Any] | None = None
    if user is not None:
        signed_in = {
            "userId": user,
            "name": name or user,
            "email": email,
            "hash": user_hash(tenant.identity_secret, user),
        }
    page = (
        _templates()
        .get_template("demo_site.html")
        .render(
            company=tenant.name,
            public_key=tenant.public_key,
            script_url=str(request.url_for("widget_script")),
            user=signed_in,
            slug=tenant.slug,
        )
    )
    return HTMLResponse(page)
