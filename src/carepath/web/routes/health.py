"""Liveness, readiness and metrics: for load balancers, orchestrators and Prometheus."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from carepath import __version__
from carepath.storage.migrate import current_revision, head_revision
from carepath.web.deps import get_state
from carepath.web.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])
log = logging.getLogger("carepath.health")


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get("/readyz", summary="The database is reachable and its schema is current")
async def readyz(request: Request) -> JSONResponse:
    db = get_state(request).db
    try:
        current = await current_revision(db)
    except Exception as exc:  # any driver error means "not ready", with the reason
        log.warning("readiness check failed: %s", exc)
        return JSONResponse({"status": "unavailable", "database": f"unreachable: {exc}"}, 503)
    head = head_revision()
    if current != head:
        return JSONResponse(
            {
                "status": "unavailable",
                "database": f"schema at {current or 'nothing'}, code expects {head}: "
                "run `carepath migrate`",
            },
            503,
        )
    return JSONResponse({"status": "ok", "database": "ok", "schema": current})


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    return Response(get_state(request).metrics.render(), media_type=CONTENT_TYPE)
