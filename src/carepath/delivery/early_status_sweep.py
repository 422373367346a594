"""The background sweep of early delivery reports (actions/early_statuses.py): applies those
whose message got its provider id while nobody looked, purges those that never matched."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from carepath.actions.early_statuses import do_sweep_early_statuses
from carepath.domain.clock import utcnow
from carepath.storage import Database

log = logging.getLogger("carepath.early_statuses")

# Only a crash between a send's commit and its look leaves a match for the sweep: once a
# minute is soon enough for that, and cheap (one indexed join, one delete).
SWEEP_INTERVAL_S = 60.0


class EarlyStatusSweep:
    """Runs the sweep every `interval_s` as a task (in the background worker); `stop` ends it."""

    def __init__(
        self,
        db: Database,
        *,
        interval_s: float = SWEEP_INTERVAL_S,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.interval_s = interval_s
        self.clock = clock
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="early status sweep")

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                result = await do_sweep_early_statuses(self.db, self.clock())
                if result.applied or result.purged:
                    log.info(
                        "early delivery reports: %d applied, %d unmatched purged",
                        result.applied,
                        result.purged,
                    )
            except Exception:
                log.exception("sweeping early delivery reports failed; again later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval_s)

    async def stop(self, grace_s: float = 15.0) -> None:
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, grace_s)
        except TimeoutError:
            log.warning("early status sweep cut short at shutdown")
