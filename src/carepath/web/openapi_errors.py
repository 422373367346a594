"""The published OpenAPI says what errors really look like: every 4xx and 5xx answer is
`{"error": {"code", "message", "data"}}` (web/errors.py), not FastAPI's default `{"detail": …}`,
so clients and schema checkers (tests/security/test_schemathesis.py) can rely on it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

ERROR_REF = "#/components/schemas/ErrorBody"
FASTAPI_VALIDATION_REF = "#/components/schemas/HTTPValidationError"


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable: not_found, validation_error…")
    message: str = Field(description="For people: what was wrong and what to do.")
    data: dict[str, Any] = Field(description="Details: the fields at fault, retry_after_s…")


class ErrorBody(BaseModel):
    error: ErrorDetail


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }


def document_errors(app: FastAPI) -> None:
    """Wrap `app.openapi` so the document it builds (once) names the real error shape."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components["ErrorBody"] = body
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = _error_response("The request is invalid (fields named)")
                responses.setdefault("4XX", _error_response("Refused: see error.code"))
                responses.setdefault("5XX", _error_response("Failed on our side"))
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
