"""Running a flow (tenant_config/flows.py): the next slot to ask, checking an answer, the call
to the tenant's endpoint, and the reply chosen by the answer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

from carepath.tenant_config.flows import Flow, Slot

MAX_SLOT_LENGTH = 200
MAX_RESPONSE_BYTES = 64 * 1024
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]+)\}")


class FlowFailed(Exception):
    """The flow cannot go on (the endpoint failed, an answer was wrong too often): hand off."""


def next_slot(flow: Flow, slots: Mapping[str, str]) -> Slot | None:
    """The first slot not known yet: a value in the conversation (or the packet) is never
    asked again."""
    return next((slot for slot in flow.slots if slot.name not in slots), None)


def accept(slot: Slot, text: str) -> str | None:
    """The answer as the slot's value, or None if it does not match the slot's pattern."""
    value = " ".join(text.split())[:MAX_SLOT_LENGTH]
    if not value:
        return None
    if slot.pattern is None:
        return value
    for candidate in (value, *value.split()):
        # The customer may wrap the value in words ("it's A12345"): any one word may match.
        if re.fullmatch(slot.pattern, candidate.strip(".,;:!?")):
            return candidate.strip(".,;:!?")
    return None


async def call(http: httpx.AsyncClient, flow: Flow, slots: Mapping[str, str]) -> dict[str, Any]:
    """POST the slots to the flow's endpoint; its JSON object answer, or FlowFailed."""
    if flow.call is None:
        return {}
    url = str(flow.call.url)
    try:
        response = await http.post(url, json=dict(slots), timeout=flow.call.timeout_s)
    except httpx.TimeoutException as exc:
        raise FlowFailed(f"{url} did not answer within {flow.call.timeout_s:g}s") from exc
    except httpx.HTTPError as exc:
        raise FlowFailed(f"{url} could not be reached: {exc}") from exc
    if response.status_code >= 300:
        raise FlowFailed(f"{url} answered {response.status_code}")
    if len(response.content) > MAX_RESPONSE_BYTES:
        raise FlowFailed(f"{url} answered more than {MAX_RESPONSE_BYTES} bytes")
    try:
        body = response.json()
    except ValueError as exc:
        raise FlowFailed(f"{url} did not answer JSON") from exc
    if not isinstance(body, dict):
        raise FlowFailed(f"{url} did not answer a JSON object")
    return body


def lookup(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def reply(flow: Flow, slots: Mapping[str, str], response: Mapping[str, Any]) -> str:
    """The first branch whose field equals its value, else the flow's reply, filled in."""
    template = flow.reply
    for branch in flow.branches:
        if lookup(response, branch.when.field) == branch.when.equals:
            template = branch.reply
            break
    return fill(template, slots, response)


def fill(template: str, slots: Mapping[str, str], response: Mapping[str, Any]) -> str:
    """`{slot}` and `{response.a.b}`; a missing value becomes empty (never a crash). Values are
    substituted once, so braces in them are just text."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("response."):
            found = lookup(response, name.removeprefix("response."))
            return "" if found is None else str(found)
        return slots.get(name, "")

    return _PLACEHOLDER.sub(value, template)
