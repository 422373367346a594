"""Cloud API webhooks in the documented shapes → normalized inbound messages and statuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from carepath.channels.meta.whatsapp import parse_whatsapp_webhook
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind
from carepath.domain.messages import DeliveryStatus
from carepath.errors import InvalidInput
from carepath.ids import TenantId

FIXTURES = Path(__file__).parent / "fixtures"
TENANT = TenantId("ten_test")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
NUMBER_ID = "106540352242922"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def test_a_text_message() -> None:
    batch = parse_whatsapp_webhook(TENANT, fixture("text"), NOW)
    [item] = batch.messages
    message = item.message
    assert item.phone_number_id == NUMBER_ID
    assert batch.phone_number_ids == {NUMBER_ID}
    assert message.channel is Channel.WHATSAPP
    assert (message.sender.kind, message.sender.value) == (IdentityKind.WHATSAPP, "+16505551234")
    assert message.sender_name == "Sheena Nelson"
    assert message.text == "Does it come in another color?"
    assert message.external_id == ("wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=")
    # WhatsApp's own time of the message, not when the webhook arrived (retries come late)
    assert message.received_at == datetime.fromtimestamp(1749416383, UTC)
    assert message.properties["phone_number_id"] == NUMBER_ID
    assert batch.statuses == ()


def test_an_image_with_a_caption_is_attachment_metadata_not_a_download() -> None:
    [item] = parse_whatsapp_webhook(TENANT, fixture("image"), NOW).messages
    message = item.message
    assert message.text == "The box arrived like this"
    [attachment] = message.attachments
    assert attachment.content_type == "image/jpeg"
    assert attachment.filename == "image-1003383421387256"
    assert not attachment.stored
    assert attachment.rejected_reason
    [media] = message.properties["media"]
    assert media["id"] == "1003383421387256"
    assert media["mime_type"] == "image/jpeg"


def test_a_location() -> None:
    [item] = parse_whatsapp_webhook(TENANT, fixture("location"), NOW).messages
    message = item.message
    assert "Main store" in message.text
    assert "37.483307" in message.text
    assert message.properties["location"] == {
        "latitude": 37.483307,
        "longitude": -122.148981,
        "name": "Main store",
        "address": "1 Hacker Way, Menlo Park, CA 94025",
    }


def test_an_interactive_button_reply_is_its_title_and_refers_to_our_message() -> None:
    [item] = parse_whatsapp_webhook(TENANT, fixture("interactive_button_reply"), NOW).messages
    message = item.message
    assert message.text == "Change"
    assert message.properties["reply"] == {"type": "button_reply", "id": "change-button"}
    assert message.thread_refs == ("wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA",)


def test_an_interactive_list_reply() -> None:
    [item] = parse_whatsapp_webhook(TENANT, fixture("interactive_list_reply"), NOW).messages
    assert item.message.text == "Express shipping"
    assert item.message.properties["reply"] == {
        "type": "list_reply",
        "id": "priority_express",
        "description": "Next day to most cities",
    }


def test_a_template_quick_reply_button() -> None:
    [item] = parse_whatsapp_webhook(TENANT, fixture("button"), NOW).messages
    assert item.message.text == "Unsubscribe from promos"
    assert item.message.properties["reply"] == {
        "type": "button",
        "payload": "Unsubscribe from promos",
    }


def test_status_updates_with_errors() -> None:
    batch = parse_whatsapp_webhook(TENANT, fixture("statuses"), NOW)
    assert batch.messages == ()
    delivered, failed = batch.statuses
    assert delivered.message_id == "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBJDQjZCMzlEQUE4OTJBMTE4RTUA"
    assert delivered.status is DeliveryStatus.DELIVERED
    assert failed.status is DeliveryStatus.FAILED
    assert failed.errors == ("131047 Re-engagement message",)


def test_one_webhook_with_several_messages_and_a_status() -> None:
    batch = parse_whatsapp_webhook(TENANT, fixture("multi"), NOW)
    first, second = (item.message for item in batch.messages)
    assert (first.sender.value, first.sender_name) == ("+16505551234", "Sheena Nelson")
    assert (second.sender.value, second.sender_name) == ("+16315551181", "Pablo Morales")
    assert second.text == "Invoice attached"
    assert second.attachments[0].filename == "invoice-4711.pdf"
    assert second.attachments[0].content_type == "application/pdf"
    [status] = batch.statuses
    assert status.status is DeliveryStatus.READ


def test_a_timestamp_in_the_future_is_taken_as_now() -> None:
    payload = fixture("text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = "4102444800"
    [item] = parse_whatsapp_webhook(TENANT, payload, NOW).messages
    assert item.message.received_at == NOW


def test_changes_that_are_not_messages_are_skipped() -> None:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "value": {
                            "event": "APPROVED",
                            "message_template_id": 1234567,
                            "message_template_name": "order_update",
                            "message_template_language": "en_US",
                            "reason": "NONE",
                        },
                        "field": "message_template_status_update",
                    }
                ],
            }
        ],
    }
    batch = parse_whatsapp_webhook(TENANT, payload, NOW)
    assert (batch.messages, batch.statuses, batch.phone_number_ids) == ((), (), frozenset())


def _without(path: list[str | int]) -> dict[str, Any]:
    payload = fixture("text")
    node: Any = payload
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return payload


MESSAGE: list[str | int] = ["entry", 0, "changes", 0, "value", "messages", 0]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"object": "page", "entry": []}, "object"),
        ({"object": "whatsapp_business_account"}, "entry"),
        ({"object": "whatsapp_business_account", "entry": {}}, "entry"),
        (_without(["entry", 0, "changes", 0, "value", "metadata"]), "metadata"),
        (_without([*MESSAGE, "from"]), "from"),
        (_without([*MESSAGE, "id"]), "id"),
        (_without([*MESSAGE, "text"]), "text"),
    ],
)
def test_a_wrong_shape_is_refused_naming_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_whatsapp_webhook(TENANT, payload, NOW)
    assert field in raised.value.message
