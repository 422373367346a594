"""WhatsApp's rules for what a business may send: the 24-hour customer-service window and
approved message templates, the only thing allowed outside it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from carepath.domain.clock import ensure_aware
from carepath.domain.properties import json_size
from carepath.errors import InvalidInput

SERVICE_WINDOW = timedelta(hours=24)
MAX_COMPONENTS_BYTES = 16 * 1024
# Meta's rules for template names (lowercase letters, digits, underscores) and locale codes.
_TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Za-z]{2,4})?")


def ensure_in_window(last_inbound_at: datetime | None, now: datetime) -> None:
    """Free-form messages may go out only within 24 hours of the customer's last WhatsApp
    message; otherwise WhatsApp drops them, so the agent is told now rather than never."""
    if last_inbound_at is not None:
        last = ensure_aware(last_inbound_at, field="last_inbound_at")
        if ensure_aware(now, field="now") - last < SERVICE_WINDOW:
            return
    when = "never wrote on WhatsApp" if last_inbound_at is None else "last wrote over 24 h ago"
    raise InvalidInput(
        f"the customer {when}, so WhatsApp allows only an approved template; "
        "send one with `template` (name, language, components)",
        code="whatsapp_window_closed",
        field="template",
        last_inbound_at=last_inbound_at.isoformat() if last_inbound_at else None,
        window_hours=int(SERVICE_WINDOW.total_seconds() // 3600),
    )


@dataclass(frozen=True)
class Template:
    """An approved template to send: its name, language and the parameters of its components,
    in the Cloud API's own shape (`components` is passed through as given)."""

    name: str
    language: str
    components: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if not _TEMPLATE_NAME.fullmatch(self.name):
            raise InvalidInput(
                "a template name is lowercase letters, digits and underscores",
                field="template.name",
            )
        if not _LANGUAGE.fullmatch(self.language):
            raise InvalidInput(
                "a template language is a locale code such as en or en_US",
                field="template.language",
            )
        if not all(isinstance(item, Mapping) for item in self.components):
            raise InvalidInput("template components are JSON objects", field="template.components")
        components = tuple(dict(item) for item in self.components)
        if json_size(list(components), field="template.components") > MAX_COMPONENTS_BYTES:
            raise InvalidInput(
                f"template components are over {MAX_COMPONENTS_BYTES} bytes",
                field="template.components",
            )
        object.__setattr__(self, "components", components)

    @classmethod
    def of(cls, name: str, language: str, components: Sequence[Mapping[str, Any]] = ()) -> Template:
        return cls(name=name, language=language, components=tuple(components))

    def to_api(self) -> dict[str, Any]:
        """The `template` object of a Cloud API message."""
        body: dict[str, Any] = {"name": self.name, "language": {"code": self.language}}
        if self.components:
            body["components"] = [dict(item) for item in self.components]
        return body

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Template:
        language = data.get("language")
        code = language.get("code") if isinstance(language, Mapping) else None
        return cls.of(str(data.get("name", "")), str(code or ""), data.get("components") or ())

    @property
    def summary(self) -> str:
        """What the case shows for a template message: it has no text of its own here."""
        return f"[WhatsApp template {self.name} ({self.language})]"
