"""The TwiML carepath answers with, read back with xml.etree: well-formed, text escaped, and the
menu offering only what can be done."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from carepath.actions.calls import CallPlan, MenuOutcome, MenuResult
from carepath.channels.twilio.phone_menu import VoiceUrls, answer_call, answer_menu
from carepath.channels.twilio.twiml import TwiML
from tests.channels.voice_live import twiml

URLS = VoiceUrls("https://carepath.example/webhooks/twilio/ten_1/voice")


BASE = CallPlan(
    call_id="call_1",
    company="Acme & Sons <Outfitters>",
    greet_name=None,
    menu=True,
    can_text=True,
    can_call_back=True,
    queue="returns",
)


def plan(**changes: Any) -> CallPlan:
    return replace(BASE, **changes)


def test_text_is_escaped_and_the_document_parses() -> None:
    xml = TwiML().say('Hello "Ada" <script> & co').hangup().to_xml()
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = twiml(xml)
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert root[0].text == 'Hello "Ada" <script> & co'


def test_a_known_caller_is_greeted_by_first_name_and_offered_both_options() -> None:
    root = twiml(answer_call(plan(greet_name="Ada Lovelace"), URLS))
    greeting, gather, redirect = list(root)
    assert greeting.text == "Hello Ada, thank you for calling Acme & Sons <Outfitters>."
    assert gather.attrib["action"] == f"{URLS.base}/menu"
    assert gather.attrib["numDigits"] == "1"
    prompt = gather[0].text or ""
    assert "press 1" in prompt
    assert "press 2" in prompt
    assert redirect.text == f"{URLS.base}/menu"


def test_without_a_texting_number_the_menu_offers_only_the_callback() -> None:
    root = twiml(answer_call(plan(can_text=False), URLS))
    prompt = root.find("Gather/Say")
    assert prompt is not None
    assert prompt.text is not None
    assert "press 1" not in prompt.text
    assert "press 2" in prompt.text


def test_without_the_menu_the_caller_is_queued() -> None:
    root = twiml(answer_call(plan(menu=False), URLS))
    enqueue = root.find("Enqueue")
    assert enqueue is not None
    assert enqueue.text == "returns"
    assert enqueue.attrib == {
        "action": f"{URLS.base}/queue",
        "method": "POST",
        "waitUrl": f"{URLS.base}/wait",
        "waitUrlMethod": "POST",
    }


def test_texted_and_callback_choices_end_the_call() -> None:
    for outcome in (MenuOutcome.TEXTED, MenuOutcome.CALLBACK):
        root = twiml(answer_menu(MenuResult(outcome, "q", "Acme"), URLS))
        assert [child.tag for child in root] == ["Say", "Hangup"]
