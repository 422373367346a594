"""The frames a visitor's client sends on the stream, parsed strictly, with clear errors."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from carepath.channels.widget.limits import MAX_FRAME_BYTES
from carepath.errors import InvalidInput

MAX_ID_LENGTH = 64


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SendMessage(Frame):
    """A message; `client_id` (a UUID the client makes) is stored as its external id, so a
    resend after a reconnect stores nothing twice."""

    type: Literal["message"]
    client_id: str = Field(max_length=MAX_ID_LENGTH)
    text: str
    case_id: str | None = Field(default=None, max_length=MAX_ID_LENGTH)

    @field_validator("client_id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        return check_client_id(value)


class Typing(Frame):
    type: Literal["typing"]
    case_id: str | None = Field(default=None, max_length=MAX_ID_LENGTH)


class Read(Frame):
    type: Literal["read"]
    up_to: str = Field(min_length=1, max_length=MAX_ID_LENGTH, description="A message id.")


ClientFrame = Annotated[SendMessage | Typing | Read, Field(discriminator="type")]
_frames: TypeAdapter[SendMessage | Typing | Read] = TypeAdapter(ClientFrame)


def check_client_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError("client_id is a UUID the client makes for each message") from None


class FrameTooLarge(InvalidInput):
    code = "frame_too_large"


def parse_frame(raw: str) -> SendMessage | Typing | Read:
    """One client frame, or InvalidInput naming what is wrong (and the client_id, if any)."""
    if len(raw) > MAX_FRAME_BYTES or len(raw.encode()) > MAX_FRAME_BYTES:
        raise FrameTooLarge(f"a frame is at most {MAX_FRAME_BYTES} bytes", limit=MAX_FRAME_BYTES)
    try:
        data: Any = json.loads(raw)
    except ValueError:
        raise InvalidInput("a frame is one JSON object", code="invalid_frame") from None
    client_id = data.get("client_id") if isinstance(data, dict) else None
    try:
        return _frames.validate_python(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'frame'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        raise InvalidInput(
            f"invalid frame: {problems}",
            code="invalid_frame",
            client_id=client_id if isinstance(client_id, str) else None,
        ) from None
