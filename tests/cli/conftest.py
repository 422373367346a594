"""The command tests' environment: a fresh data directory and the test secret, nothing else of
the caller's CAREPATH_ settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CAREPATH_")}
    return {
        **clean,
        "CAREPATH_DATA_DIR": str(tmp_path / "data"),
        "CAREPATH_SECRET_KEY": TEST_SECRET,
    }
