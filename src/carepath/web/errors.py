"""The one place where errors become HTTP responses: {"error": {"code", "message", "data"}}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from carepath.errors import (
    AuthenticationRequired,
    CarepathError,
    ConfigurationError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
)

log = logging.getLogger("carepath.web")

_STATUS: list[tuple[type[CarepathError], int]] = [
    (NotFound, 404),
    (AuthenticationRequired, 401),
    (PermissionDenied, 403),
    (InvalidInput, 422),
    (Conflict, 409),
    (RateLimited, 429),
    (ConfigurationError, 500),
]


def status_for(error: CarepathError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400


def error_body(code: str, message: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "data": data or {}}}


def _field_name(loc: tuple[Any, ...]) -> str:
    # ("body", "email") -> "email"; ("query", "limit") -> "limit"; a whole-body error -> "body"
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[0] if loc else "body")


def retry_headers(error: CarepathError) -> dict[str, str]:
    """Retry-After for a RateLimited error that says when (its data's `retry_after_s`)."""
    retry = error.data.get("retry_after_s")
    return {"Retry-After": str(int(retry))} if isinstance(retry, int | float) else {}


async def _carepath_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CarepathError)
    status = status_for(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else retry_headers(exc) or None
    return JSONResponse(error_body(exc.code, exc.message, exc.data), status, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        if err.get("type") == "json_invalid":
            fields.append({"field": "body", "message": "the body is not valid JSON"})
            continue
        fields.append({"field": _field_name(loc), "message": str(err.get("msg", "invalid"))})
    names = ", ".join(sorted({f["field"] for f in fields}))
    return JSONResponse(
        error_body("validation_error", f"invalid request: {names}", {"fields": fields}), 422
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(code, str(exc.detail)), exc.status_code, headers=getattr(exc, "headers", None)
    )


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse(
        error_body("internal_error", "something went wrong on our side; it has been logged"), 500
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CarepathError, _carepath_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
