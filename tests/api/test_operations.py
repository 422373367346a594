"""Health, readiness, metrics and the published OpenAPI."""

from __future__ import annotations

import httpx

from carepath import __version__


async def test_healthz_says_the_process_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok", "version": __version__}


async def test_readyz_checks_the_database_and_schema(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/v1/users/usr_123")
    await client.get("/healthz")
    text = (await client.get("/metrics")).text
    assert 'carepath_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text
    assert 'route="/v1/users/{user_id}",status="401"' in text
    assert "carepath_http_request_duration_seconds_bucket" in text


async def test_unknown_paths_get_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/path")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_the_openapi_document_is_published(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert {"/v1/auth/login", "/v1/users", "/v1/tokens", "/v1/audit"} <= set(spec["paths"])
