"""Hostile input in every JSON body field and in headers, driven from the OpenAPI so new routes are
covered: a 1 MB string, invalid UTF-8, deeply nested JSON, a wrong or malformed content type,
oversized headers. Each answer is a clear 4xx with the error shape, nothing is stored, and the
server keeps answering. (HTML/JS and SQL fragments are valid text: they are stored as text and
rendered escaped, tests/api/test_ui_pages.py; schemathesis sends many more shapes.)"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from carepath.storage import Database, tables
from tests.api.test_tenant_isolation import BODIES, their_objects
from tests.factories import bearer, make_company
from tests.reliability_report import record
from tests.security.apps import SECTION

MEGABYTE = "A" * (1024 * 1024)
INVALID_UTF8 = b'{"text": "\xff\xfe\xc3\x28 broken"}'
NESTED = ("[" * 100_000 + "]" * 100_000).encode()
# Valid text, however it looks: stored or refused by the rules, never a server error.
HOSTILE_TEXT = ["<script>alert(1)</script>", "'; DROP TABLE customers; --", "\u202e\ufeff"]
NUL_TEXT = "before\u0000after"


def json_operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, request schema) for every operation that takes a JSON body."""
    document = app.openapi()
    found = []
    for path, operations in document["paths"].items():
        if path.startswith("/webhooks/"):
            continue
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                schema = _resolve(document, content["application/json"]["schema"])
                found.append((method.upper(), path, schema))
    return found


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        resolved: dict[str, Any] = document["components"]["schemas"][name]
        return resolved
    return schema


def string_fields(schema: dict[str, Any]) -> list[str]:
    fields = []
    for name, prop in schema.get("properties", {}).items():
        kinds = [prop.get("type")] + [alt.get("type") for alt in prop.get("anyOf", [])]
        if "string" in kinds:
            fields.append(name)
    return fields


async def row_counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        return {
            table.name: int(
                (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            )
            for table in tables.metadata.sorted_tables
        }


def fill(template: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "unknown"), template)


def assert_clear_4xx(response: httpx.Response, what: str) -> None:
    assert 400 <= response.status_code < 500, (
        f"{what}: {response.status_code} {response.text[:300]}"
    )
    assert set(response.json()) == {"error"}, f"{what}: {response.text[:300]}"


async def test_hostile_bodies_and_headers_get_a_clear_4xx_and_store_nothing(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    ids = await their_objects(db, company)
    headers = bearer(company.admin_token)
    operations = json_operations(app)
    assert len(operations) >= 25
    before = await row_counts(db)
    inputs = 0
    for method, path, schema in operations:
        url = fill(path, ids)
        base = {
            k: fill(v, ids) if isinstance(v, str) else v
            for k, v in BODIES.get((method, path), {}).items()
        }
        # A megabyte, then a NUL, in each text field, one field at a time: refused.
        for name in string_fields(schema):
            for value, label in ((MEGABYTE, "1MB"), (NUL_TEXT, "NUL")):
                response = await client.request(
                    method, url, json={**base, name: value}, headers=headers
                )
                assert_clear_4xx(response, f"{method} {path} {name}={label}")
                inputs += 1
        # Bytes that are not UTF-8, nesting deeper than any parser should follow, and a body
        # that claims to be JSON but is a multipart fragment.
        for raw, kind in (
            (INVALID_UTF8, "application/json"),
            (NESTED, "application/json"),
            (b"--x\r\nContent-Disposition: form-data; name=", "application/json"),
            (json.dumps(base).encode(), "multipart/form-data; boundary="),
        ):
            response = await client.request(
                method, url, content=raw, headers={**headers, "Content-Type": kind}
            )
            assert_clear_4xx(response, f"{method} {path} {kind} {raw[:20]!r}")
            inputs += 1
    # Oversized and odd headers on a plain read.
    odd_headers: tuple[tuple[bytes, bytes], ...] = (
        (b"Authorization", b"Bearer " + b"x" * 64_000),
        (b"X-Carepath-Key", b"pk_" + b"y" * 64_000),
        (b"Authorization", b"Bearer tok_\xc3\xa9\xff.secret"),
    )
    for header, header_value in odd_headers:
        response = await client.get("/v1/customers", headers=[(header, header_value)])
        assert_clear_4xx(response, f"header {header!r}")
        inputs += 1
    # A complete login whose tenant holds a NUL: once a 500 on PostgreSQL (found by schemathesis).
    login = {"tenant": "acme\u0000", "email": "a@example.com", "password": "x"}
    assert_clear_4xx(await client.post("/v1/auth/login", json=login), "login with NUL")
    for query in ("q=%00", "cursor=%00x", "limit=%00"):
        response = await client.get(f"/v1/articles/search?{query}", headers=headers)
        assert_clear_4xx(response, f"query {query}")
        inputs += 1
    assert await row_counts(db) == before, "something was stored from a refused request"
    # HTML, SQL and bidi text in every field of the bodies the routes accept: no server error.
    for method, path, schema in operations:
        base = {
            k: fill(v, ids) if isinstance(v, str) else v
            for k, v in BODIES.get((method, path), {}).items()
        }
        for name in string_fields(schema):
            for text in HOSTILE_TEXT:
                response = await client.request(
                    method, fill(path, ids), json={**base, name: text}, headers=headers
                )
                assert response.status_code < 500, f"{method} {path} {name}: {response.text}"
                inputs += 1
    assert (await client.get("/healthz")).status_code == 200
    record(
        "hostile-input",
        section=SECTION,
        what="Every JSON-body route of the OpenAPI sent a 1 MB string in each text field, "
        "invalid UTF-8, 100,000-deep nested JSON and malformed MIME bodies; oversized and "
        "non-ASCII credential headers.",
        counts={"routes_probed": len(operations), "inputs_tried": inputs},
        result="every one a 4xx with the error shape; no row stored; the server kept answering",
    )
