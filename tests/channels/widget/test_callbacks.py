""" "Call me": a callback request on the visitor's case, a journey step and a stream event."""

from __future__ import annotations

from datetime import timedelta

import httpx

from carepath.domain.callbacks import CallbackSource, CallbackStatus
from carepath.domain.clock import utcnow
from carepath.domain.journey import JourneyEventType
from carepath.storage import Database
from tests.channels.widget.visitor import frames, message, of_type, open_visitor, stream, until
from tests.factories import make_company


async def test_call_me_creates_a_callback_on_the_visitors_case(
    base_url: str, http: httpx.AsyncClient, app_db: Database
) -> None:
    # given a visitor in a conversation
    company = await make_company(app_db)
    visitor = await open_visitor(http, company.tenant)
    async with stream(base_url, visitor) as ws:
        await until(ws, of_type("stream.ready"))
        await ws.send(message("the article did not help"))
        ack, _ = await until(ws, of_type("ack"))
        await frames(ws)
        # when they ask to be called now, writing the number their own way
        response = await http.post(
            "/v1/visitor/callbacks",
            json={"phone": "+44 20 7946 0958", "when": "now"},
            headers=visitor.headers,
        )
        received = await frames(ws)
    # then a callback is requested on their case, for now, with the number in E.164
    assert response.status_code == 201, response.text
    callback = response.json()
    assert callback["case_id"] == ack["case_id"]
    assert callback["phone"] == "+442079460958"
    assert callback["status"] == "requested"
    async with app_db.uow(write=False) as uow:
        stored = await uow.callbacks.of_case(company.tenant.id, ack["case_id"])
        journey = await uow.journey.of_customers(company.tenant.id, [visitor.customer_id])
    assert len(stored) == 1
    assert stored[0].source is CallbackSource.WIDGET
    assert stored[0].status is CallbackStatus.REQUESTED
    assert abs(stored[0].requested_for - utcnow()) < timedelta(minutes=1)
    assert [j.name for j in journey if j.type is JourneyEventType.CALLBACK] == [
        "callback_requested"
    ]
    # and the visitor's stream confirms it
    event = [f for f in received if f.get("type") == "callback.requested"]
    assert len(event) == 1
    assert event[0]["data"]["callback_id"] == callback["id"]
    assert "customer_id" not in event[0]["data"]


async def test_call_me_later_opens_a_case_when_there_is_none(
    http: httpx.AsyncClient, app_db: Database
) -> None:
    company = await make_company(app_db)
    visitor = await open_visitor(http, company.tenant)
    at = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    response = await http.post(
        "/v1/visitor/callbacks",
        json={"phone": "+16505550100", "when": at.isoformat()},
        headers=visitor.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["requested_for"].startswith(at.isoformat()[:19])
    async with app_db.uow(write=False) as uow:
        case = await uow.cases.get(company.tenant.id, response.json()["case_id"])
    assert case is not None
    assert case.customer_id == visitor.customer_id


async def test_call_me_refuses_a_bad_number_or_time_clearly(
    http: httpx.AsyncClient, app_db: Database
) -> None:
    company = await make_company(app_db)
    visitor = await open_visitor(http, company.tenant)
    bad_phone = await http.post(
        "/v1/visitor/callbacks", json={"phone": "555-0100"}, headers=visitor.headers
    )
    assert bad_phone.status_code == 422
    assert "international form" in bad_phone.json()["error"]["message"]
    past = (utcnow() - timedelta(hours=2)).isoformat()
    in_the_past = await http.post(
        "/v1/visitor/callbacks",
        json={"phone": "+16505550100", "when": past},
        headers=visitor.headers,
    )
    assert in_the_past.status_code == 422
    assert in_the_past.json()["error"]["data"]["field"] == "when"
    no_zone = await http.post(
        "/v1/visitor/callbacks",
        json={"phone": "+16505550100", "when": "2030-01-01T10:00:00"},
        headers=visitor.headers,
    )
    assert no_zone.status_code == 422
    async with app_db.uow(write=False) as uow:
        cases = await uow.cases.of_customers(company.tenant.id, [visitor.customer_id])
    assert cases == []
