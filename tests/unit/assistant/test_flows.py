"""Flows and the words that decide a hand-off: pure logic, no server."""

from __future__ import annotations

import pytest

from carepath.assistant import conversation as words
from carepath.assistant import flows
from carepath.errors import InvalidInput
from carepath.tenant_config import parse_tenant_config
from carepath.tenant_config.flows import Flow

FLOW = Flow.model_validate(
    {
        "intent": "order_status",
        "slots": [
            {"name": "order_number", "ask": "Order number?", "pattern": "[A-Z][0-9]{5}"},
            {"name": "postcode", "ask": "Postcode?"},
        ],
        "call": {"url": "https://shop.example.com/status", "timeout_s": 2},
        "branches": [
            {
                "when": {"field": "order.status", "equals": "shipped"},
                "reply": "{order_number} shipped {response.order.date}",
            },
        ],
        "reply": "{order_number} is {response.order.status}",
    }
)


def test_a_slot_already_known_is_never_asked_again() -> None:
    assert flows.next_slot(FLOW, {}) is FLOW.slots[0]
    assert flows.next_slot(FLOW, {"order_number": "A12345"}) is FLOW.slots[1]
    assert flows.next_slot(FLOW, {"order_number": "A12345", "postcode": "X"}) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("A12345", "A12345"), ("it's A12345.", "A12345"), ("12", None), ("A123456", None)],
)
def test_an_answer_must_match_the_slot_pattern(text: str, value: str | None) -> None:
    assert flows.accept(FLOW.slots[0], text) == value


def test_the_first_matching_branch_replies_and_placeholders_are_filled_once() -> None:
    shipped = {"order": {"status": "shipped", "date": "Monday"}}
    assert flows.reply(FLOW, {"order_number": "A1"}, shipped) == "A1 shipped Monday"
    held = {"order": {"status": "held"}}
    assert flows.reply(FLOW, {"order_number": "{response.order.status}"}, held) == (
        "{response.order.status} is held"
    )
    assert flows.fill("{missing} {response.nothing}", {}, {}) == " "


def test_flows_must_name_a_declared_intent_and_known_placeholders() -> None:
    text = """
intents: [{name: order_status}]
flows:
  - intent: refund
    reply: "x"
  - intent: order_status
    reply: "{order_number} {response.status}"
"""
    with pytest.raises(InvalidInput) as refused:
        parse_tenant_config(text)
    message = str(refused.value.data)
    assert "intent 'refund' is not declared" in message
    assert "{order_number} is neither a slot nor a response field" in message


@pytest.mark.parametrize(
    "text",
    [
        "agent",
        "I want a person",
        "can I talk to someone",
        "Speak to a human please",
        "get me a representative",
        "call me",
    ],
)
def test_asking_for_a_person_in_several_phrasings(text: str) -> None:
    assert words.wants_person(text)


@pytest.mark.parametrize("text", ["my refund still hasn't arrived", "where is my order"])
def test_ordinary_requests_are_neither_person_nor_frustration(text: str) -> None:
    assert not words.wants_person(text)
    assert not words.is_frustrated(text)
    assert not words.said_not_helpful(text)


@pytest.mark.parametrize(
    "text", ["this is useless", "WHERE IS MY MONEY", "hello???!!!", "what a joke"]
)
def test_frustration(text: str) -> None:
    assert words.is_frustrated(text)


def test_did_it_help() -> None:
    assert words.said_not_helpful("that didn't help")
    assert words.said_not_helpful("That doesn\u2019t help at all")
    assert words.said_helpful("Yes, thanks!")
    assert not words.said_helpful("no, that didn't help")
