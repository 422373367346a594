"""Attachments: the metadata of a file sent with a message, and whether it was stored or why not."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from carepath.domain.masking import mask_card_numbers
from carepath.errors import InvalidInput

MAX_FILENAME_LENGTH = 255
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTENT_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: its metadata, and whether it was stored or why not."""

    filename: str
    content_type: str
    size: int
    sha256: str | None = None
    stored: bool = False
    rejected_reason: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "filename", _clean_filename(self.filename))
        content_type = self.content_type.split(";", 1)[0].strip().lower()
        if not _CONTENT_TYPE.fullmatch(content_type):
            raise InvalidInput(
                f"not a media type: {self.content_type!r}", field="attachments.content_type"
            )
        object.__setattr__(self, "content_type", content_type)
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise InvalidInput("an attachment size is a whole number of bytes", field="size")
        if self.sha256 is not None and not _SHA256.fullmatch(self.sha256):
            raise InvalidInput("sha256 is 64 lowercase hex digits", field="attachments.sha256")
        if self.stored and (self.sha256 is None or self.rejected_reason is not None):
            raise InvalidInput(
                "a stored attachment has a sha256 and no rejection", field="attachments"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "stored": self.stored,
            "rejected_reason": self.rejected_reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Attachment:
        try:
            return cls(
                filename=data["filename"],
                content_type=data["content_type"],
                size=data["size"],
                sha256=data.get("sha256"),
                stored=bool(data.get("stored", False)),
                rejected_reason=data.get("rejected_reason"),
            )
        except (KeyError, AttributeError, TypeError) as exc:
            raise InvalidInput(
                "an attachment needs filename, content_type and size", field="attachments"
            ) from exc


def _clean_filename(filename: str) -> str:
    # Only the last path part: a client-chosen "../../x" must never reach a file system.
    name = re.split(r"[/\\]", filename)[-1]
    name = "".join(char for char in mask_card_numbers(name) if char.isprintable()).strip()
    if not name or name in (".", ".."):
        name = "attachment"
    if len(name) > MAX_FILENAME_LENGTH:
        # Cut the stem, not the extension, so the file still opens with the right program.
        _, dot, ext = name.rpartition(".")
        suffix = dot + ext if dot and len(ext) <= 16 else ""
        name = name[: MAX_FILENAME_LENGTH - len(suffix)] + suffix
    return name
