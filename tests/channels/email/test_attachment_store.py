"""The content-addressed attachment store: write-once files under DATA_DIR/attachments/ab/cd/."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from carepath.storage.files import AttachmentStore


def test_a_file_is_stored_under_its_sha256_and_reads_back(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path / "attachments")
    data = b"%PDF-1.4 receipt"
    sha256 = store.put(data)
    assert sha256 == hashlib.sha256(data).hexdigest()
    assert store.path(sha256) == tmp_path / "attachments" / sha256[:2] / sha256[2:4] / sha256
    assert store.read(sha256) == data
    assert store.exists(sha256)


def test_the_same_content_is_stored_once_and_never_rewritten(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path)
    sha256 = store.put(b"same bytes")
    inode = store.path(sha256).stat().st_ino
    assert store.put(b"same bytes") == sha256
    assert store.path(sha256).stat().st_ino == inode
    assert [p.name for p in store.path(sha256).parent.iterdir()] == [sha256]


def test_concurrent_writers_of_one_content_leave_one_whole_file_and_no_temporaries(
    tmp_path: Path,
) -> None:
    store = AttachmentStore(tmp_path)
    data = bytes(range(256)) * 4096  # 1 MiB
    with ThreadPoolExecutor(8) as pool:
        digests = set(pool.map(lambda _: store.put(data), range(16)))
    [sha256] = digests
    assert store.read(sha256) == data
    assert [p.name for p in store.path(sha256).parent.iterdir()] == [sha256]


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ABC", "0" * 63])
def test_only_sha256_digests_name_files(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        AttachmentStore(tmp_path).path(bad)
