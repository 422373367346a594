"""Bad bodies are refused with 422 naming the field, and change nothing."""

from __future__ import annotations

import httpx
import pytest

from carepath.storage import Database
from tests.factories import bearer, make_company


async def count_users(client: httpx.AsyncClient, token: str) -> int:
    return len((await client.get("/v1/users", headers=bearer(token))).json()["items"])


async def test_a_body_that_is_not_json_gets_422_and_changes_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    before = await count_users(client, company.admin_token)
    response = await client.post(
        "/v1/users",
        content=b'{"email": "a@example.com", "display_name": ',
        headers={**bearer(company.admin_token), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["data"]["fields"][0]["field"] == "body"
    assert await count_users(client, company.admin_token) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"display_name": "No Email", "role": "agent"}, "email"),
        ({"email": "a@example.com", "display_name": "A", "role": "overlord"}, "role"),
        ({"email": "a@example.com", "display_name": "A", "role": "agent", "extra": 1}, "extra"),
        ({"email": "a@example.com", "display_name": ["A"], "role": "agent"}, "display_name"),
        ({"email": "not-an-email", "display_name": "A", "role": "agent"}, "email"),
        (
            {"email": "a@example.com", "display_name": "A", "role": "agent", "password": "short"},
            "password",
        ),
    ],
)
async def test_a_wrong_shaped_body_gets_422_naming_the_field_and_changes_nothing(
    client: httpx.AsyncClient, db: Database, body: dict[str, object], field: str
) -> None:
    company = await make_company(db)
    before = await count_users(client, company.admin_token)
    response = await client.post("/v1/users", json=body, headers=bearer(company.admin_token))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    fields = [f["field"] for f in error["data"].get("fields", [])] + [error["data"].get("field")]
    assert field in fields, error
    assert field in error["message"] or error["code"] == "invalid_input"
    assert await count_users(client, company.admin_token) == before


async def test_a_json_array_instead_of_an_object_gets_422(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    response = await client.post(
        "/v1/tokens", json=["name", "role"], headers=bearer(company.admin_token)
    )
    assert response.status_code == 422
    assert response.json()["error"]["data"]["fields"][0]["field"] == "body"


async def test_a_query_parameter_out_of_range_gets_422(
    client: httpx.AsyncClient, db: Database
) -> None:
    company = await make_company(db)
    response = await client.get(
        "/v1/users", params={"limit": 0}, headers=bearer(company.admin_token)
    )
    assert response.status_code == 422
    assert response.json()["error"]["data"]["fields"][0]["field"] == "limit"


async def test_a_duplicate_email_gets_409(client: httpx.AsyncClient, db: Database) -> None:
    company = await make_company(db)
    body = {"email": company.admin.email.upper(), "display_name": "Twin", "role": "agent"}
    response = await client.post("/v1/users", json=body, headers=bearer(company.admin_token))
    assert response.status_code == 409
    assert response.json()["error"]["data"]["field"] == "email"
