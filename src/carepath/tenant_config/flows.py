"""The schema of assistant flows in the tenant file: ask for details, look something up on the
tenant's own HTTP endpoint, branch on the answer, reply (run by carepath.assistant.flows)."""

from __future__ import annotations

import re
import string
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from carepath.yaml_config import Loc

SlotName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Slot(_Strict):
    name: SlotName
    ask: str = Field(min_length=1, max_length=500, description="The question that asks for it.")
    pattern: str | None = Field(
        default=None, description="A regular expression the whole answer must match."
    )
    invalid: str = Field(
        default="Sorry, that does not look right. Please try again.",
        max_length=500,
        description="Said before asking again after an answer that does not match.",
    )
    max_attempts: int = Field(default=3, ge=1, le=10, description="Then hand off.")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from exc
        return value


class Call(_Strict):
    url: HttpUrl = Field(description="POSTed the slots as a JSON object; answers JSON.")
    timeout_s: float = Field(default=5.0, gt=0, le=30)


class When(_Strict):
    field: str = Field(min_length=1, description="A field of the answer; dots for nesting.")
    equals: str | int | float | bool | None


class Branch(_Strict):
    when: When
    reply: str = Field(min_length=1, max_length=2000)


class Flow(_Strict):
    """For `intent`: ask each slot not known yet, call the endpoint (if any), then reply with
    the first branch whose condition holds, or `reply`. Replies may use `{slot}` and
    `{response.field}` placeholders."""

    intent: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,59}$")]
    slots: list[Slot] = Field(default_factory=list)
    call: Call | None = None
    branches: list[Branch] = Field(default_factory=list)
    reply: str = Field(min_length=1, max_length=2000)


def placeholders(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def check_flows(flows: list[Flow], intents: set[str]) -> list[tuple[Loc, str]]:
    """Each flow is for a declared intent, at most one per intent, and its replies use only its
    slots and `response.` fields."""
    problems: list[tuple[Loc, str]] = []
    seen: set[str] = set()
    for i, flow in enumerate(flows):
        loc: Loc = ("flows", i)
        if flow.intent not in intents:
            problems.append(((*loc, "intent"), f"intent {flow.intent!r} is not declared"))
        if flow.intent in seen:
            problems.append(((*loc, "intent"), f"{flow.intent} already has a flow"))
        seen.add(flow.intent)
        names = {slot.name for slot in flow.slots}
        replies: list[tuple[Loc, str]] = [((*loc, "reply"), flow.reply)]
        replies += [((*loc, "branches", j, "reply"), b.reply) for j, b in enumerate(flow.branches)]
        for where, template in replies:
            try:
                used = placeholders(template)
            except ValueError as exc:
                problems.append((where, f"not a valid template: {exc}"))
                continue
            for name in used:
                if name not in names and not (flow.call and name.startswith("response.")):
                    problems.append((where, f"{{{name}}} is neither a slot nor a response field"))
    return problems
