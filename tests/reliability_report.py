"""Figures for docs/reliability.md, written by the reliability and security tests as they run.

Each test that proves a guarantee calls `record(...)` with what it did (counts) and what it found.
The records land as one JSON file per test under `build/reliability/` (or
`$CAREPATH_RELIABILITY_DIR`), and `scripts/reliability` turns them into docs/reliability.md.
Recording never fails a test: the assertions in the test are the proof, this is the report.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def report_dir() -> Path:
    configured = os.environ.get("CAREPATH_RELIABILITY_DIR")
    return Path(configured) if configured else ROOT / "build" / "reliability"


def database_kind() -> str:
    """'postgresql' when the suite runs against PostgreSQL, else 'sqlite'."""
    return "postgresql" if os.environ.get("CAREPATH_TEST_DATABASE_URL") else "sqlite"


def record(
    name: str,
    *,
    section: str,
    what: str,
    counts: dict[str, int | float | str],
    result: str,
    database: str | None = None,
) -> None:
    """Store one test's figures.

    name: a stable id (one file per name and database); section: the report heading it belongs
    under ("Nothing lost, nothing doubled", "No one gets in", "Personal data"); what: one sentence
    on what the test does; counts: the figures (messages sent, kills, routes probed…);
    result: what held, in words.
    """
    db = database or database_kind()
    entry: dict[str, Any] = {
        "name": name,
        "section": section,
        "what": what,
        "counts": counts,
        "result": result,
        "database": db,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    slug = re.sub(r"[^a-z0-9_-]+", "-", f"{name}-{db}".lower())
    try:
        directory = report_dir()
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{slug}.json").write_text(json.dumps(entry, indent=2) + "\n")
    except OSError:
        pass
