"""Limits with clear errors: the message rate per visitor, message length, frame size."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from carepath.channels.widget.limits import MAX_FRAME_BYTES, MAX_TEXT, TokenBucket
from carepath.storage import Database
from tests.channels.widget.visitor import frames, message, of_type, open_visitor, stream, until
from tests.factories import make_company


async def test_the_21st_message_in_a_minute_is_refused_with_when_to_retry(
    base_url: str, http: httpx.AsyncClient, app_db: Database
) -> None:
    # given a visitor who sent 20 messages at once
    company = await make_company(app_db)
    visitor = await open_visitor(http, company.tenant)
    other = await open_visitor(http, company.tenant)
    async with stream(base_url, visitor) as ws:
        await until(ws, of_type("stream.ready"))
        for n in range(20):
            await ws.send(message(f"message {n}"))
        # when they send one more
        late = str(uuid.uuid4())
        await ws.send(message("one too many", late))
        received = await frames(ws, quiet=1.0)
    # then that one is refused, naming it and when to retry, and the 20 were stored
    acks = [f for f in received if f.get("type") == "ack"]
    errors = [f for f in received if f.get("type") == "error"]
    assert len(acks) == 20
    assert len(errors) == 1
    assert errors[0]["code"] == "rate_limited"
    assert errors[0]["client_id"] == late
    assert errors[0]["retry_after_s"] >= 1
    assert "20 messages a minute" in errors[0]["message"]
    # and another visitor is not affected; over REST the refusal is a 429
    rest = await http.post(
        "/v1/visitor/messages",
        json={"client_id": str(uuid.uuid4()), "text": "hi"},
        headers=other.headers,
    )
    assert rest.status_code == 201
    over = await http.post(
        "/v1/visitor/messages",
        json={"client_id": str(uuid.uuid4()), "text": "hi"},
        headers=visitor.headers,
    )
    assert over.status_code == 429
    assert over.json()["error"]["code"] == "rate_limited"


def test_a_resend_costs_no_token() -> None:
    clock = [0.0]
    bucket = TokenBucket(rate=1 / 60, burst=2, clock=lambda: clock[0])
    assert bucket.take("v") == 0.0
    bucket.give_back("v")  # that one was a resend of a stored message
    assert bucket.take("v") == 0.0
    assert bucket.take("v") == 0.0
    assert bucket.take("v") == pytest.approx(60.0)
    clock[0] = 60.0
    assert bucket.take("v") == 0.0


async def test_a_message_over_5000_characters_is_refused_and_nothing_is_stored(
    base_url: str, http: httpx.AsyncClient, app_db: Database
) -> None:
    company = await make_company(app_db)
    visitor = await open_visitor(http, company.tenant)
    client_id = str(uuid.uuid4())
    async with stream(base_url, visitor) as ws:
        await until(ws, of_type("stream.ready"))
        await ws.send(message("x" * (MAX_TEXT + 1), client_id))
        error, _ = await until(ws, of_type("error"))
        # the connection stays usable
        await ws.send(message("x" * MAX_TEXT))
        ack, _ = await until(ws, of_type("ack"))
    assert error["code"] == "message_too_long"
    assert error["client_id"] == client_id
    assert error["limit"] == MAX_TEXT
    assert "5000 characters" in error["message"]
    assert ack["duplicate"] is False
    rest = await http.post(
        "/v1/visitor/messages",
        json={"client_id": str(uuid.uuid4()), "text": "y" * (MAX_TEXT + 1)},
        headers=visitor.headers,
    )
    assert rest.status_code == 422
    assert rest.json()["error"]["code"] == "message_too_long"


async def test_an_oversized_frame_closes_the_stream_and_bad_frames_are_named(
    base_url: str, http: httpx.AsyncClient, app_db: Database
) -> None:
    company = await make_company(app_db)
    visitor = await open_visitor(http, company.tenant)
    async with stream(base_url, visitor) as ws:
        await until(ws, of_type("stream.ready"))
        await ws.send("not json")
        not_json, _ = await until(ws, of_type("error"))
        await ws.send(json.dumps({"type": "message", "client_id": "1", "text": "hi"}))
        bad_id, _ = await until(ws, of_type("error"))
        await ws.send(json.dumps({"type": "shout"}))
        unknown, _ = await until(ws, of_type("error"))
        await ws.send(message("z" * MAX_FRAME_BYTES))
        with pytest.raises(ConnectionClosed) as closed:
            await until(ws, of_type("never"))
    assert not_json["code"] == "invalid_frame"
    assert bad_id["code"] == "invalid_frame"
    assert "client_id" in bad_id["message"]
    assert bad_id["client_id"] == "1"
    assert unknown["code"] == "invalid_frame"
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
