"""The workspace's static files (vendored htmx, its script and stylesheet, the dashboard's and
the plotly.js of the installed package), served by name."""

from __future__ import annotations

import functools
import hashlib
from importlib import resources

from fastapi import APIRouter, Request, Response

from carepath.errors import NotFound

router = APIRouter(prefix="/app/static", include_in_schema=False)
_TYPES = {
    "htmx.min.js": "text/javascript; charset=utf-8",
    "workspace.js": "text/javascript; charset=utf-8",
    "workspace.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    "plotly.min.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
# plotly.js as the installed Python package ships it: the dashboard's charts, never a CDN.
_PACKAGED = {"plotly.min.js": ("plotly", "package_data")}


@functools.cache
def _asset(name: str) -> tuple[bytes, str]:
    package, folder = _PACKAGED.get(name, ("carepath.web", "static/ui"))
    body = resources.files(package).joinpath(*folder.split("/"), name).read_bytes()
    return body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'


@router.get("/{name}")
async def asset(name: str, request: Request) -> Response:
    if name not in _TYPES:
        raise NotFound("no such file", kind="asset")
    body, etag = _asset(name)
    headers = {"ETag": etag, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=_TYPES[name], headers=headers)
