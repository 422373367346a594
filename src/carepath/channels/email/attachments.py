"""Which attachments carepath keeps: a size limit and an allowlist of media types."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from carepath.settings import Settings

MAX_ATTACHMENTS = 50


@dataclass(frozen=True)
class AttachmentPolicy:
    """`types` are media types, with `image/*` or `application/vnd.oasis.opendocument.*`
    wildcards; anything else is recorded on the message as rejected, never stored."""

    max_bytes: int
    types: tuple[str, ...]
    max_count: int = MAX_ATTACHMENTS

    @classmethod
    def from_settings(cls, settings: Settings) -> AttachmentPolicy:
        return cls(
            max_bytes=settings.email_max_attachment_bytes,
            types=parse_types(settings.attachment_types),
        )

    def rejection(self, content_type: str, size: int, index: int) -> str | None:
        """Why this attachment is not stored, or None when it is."""
        if index >= self.max_count:
            return f"more than {self.max_count} attachments"
        if size > self.max_bytes:
            return f"larger than the {_size(self.max_bytes)} limit ({_size(size)})"
        if not any(fnmatchcase(content_type, pattern) for pattern in self.types):
            return f"{content_type} files are not accepted"
        return None


def parse_types(value: str) -> tuple[str, ...]:
    return tuple(item.strip().lower() for item in value.split(",") if item.strip())


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"
