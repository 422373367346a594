"""Content-addressed file storage for attachments: DATA_DIR/attachments/ab/cd/<sha256>."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path

_SHA256 = re.compile(r"[0-9a-f]{64}")


def digest(data: bytes) -> str:
    """The name `data` is stored under: known before it is written (see `AttachmentStore`)."""
    return hashlib.sha256(data).hexdigest()


class AttachmentStore:
    """Write-once files named by the SHA-256 of their content.

    The same content is stored once however often it arrives; a file appears complete or not at
    all (written to a temporary name, then linked into place), so a reader never sees half a
    file and concurrent writers of the same content do not disturb each other.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Store `data` (if not already there) and return its SHA-256."""
        sha256 = digest(data)
        final = self.path(sha256)
        if final.exists():
            return sha256
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            try:
                # link() fails if the name exists, where rename() would replace it: write-once.
                os.link(tmp, final)
            except FileExistsError:
                pass
            except OSError:
                # File systems without hard links: same content, so replacing is harmless.
                os.replace(tmp, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return sha256

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()
