"""Health, readiness, metrics and the published OpenAPI."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from carepath import __version__
from carepath.storage import Database
from tests.api.sms_webhooks import OUR_NUMBER, add_sms_number, post_sms
from tests.factories import make_company


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


async def test_metrics_time_the_batched_writes_of_ingest(
    client: httpx.AsyncClient, db: Database
) -> None:
    # given a tenant's SMS number
    company = await make_company(db)
    await add_sms_number(db, company, OUR_NUMBER)
    # when two SMS arrive one after the other
    for sid in ("SM0001", "SM0002"):
        assert (await post_sms(client, company.tenant.slug, sid)).status_code == 200
    # then each ran in a batch of its own, its wait and its batch's run measured
    samples = {
        (sample.name, sample.labels.get("le")): sample.value
        for family in text_string_to_metric_families((await client.get("/metrics")).text)
        for sample in family.samples
    }
    assert samples["carepath_write_batch_members_count", None] == 2
    assert samples["carepath_write_batch_members_sum", None] == 2
    assert samples["carepath_write_batch_members_bucket", "1.0"] == 2
    assert samples["carepath_write_batch_wait_seconds_count", None] == 2
    assert samples["carepath_write_batch_duration_seconds_count", None] == 2
    assert samples["carepath_write_batch_duration_seconds_sum", None] > 0


async def test_unknown_paths_get_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/path")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_the_openapi_document_is_published(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert {"/v1/auth/login", "/v1/users", "/v1/tokens", "/v1/audit"} <= set(spec["paths"])
