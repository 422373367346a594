"""The server freezes what start-up made, so full collections no longer walk it (the p99 of
ingest: docs/performance.md, seventh round)."""

from __future__ import annotations

import gc

from fastapi import FastAPI


async def test_start_up_objects_are_frozen_out_of_the_collectors_scans(app: FastAPI) -> None:
    # given a started app, then the modules and what start-up built are frozen
    assert gc.get_freeze_count() > 10_000
    # and what requests make later is still collected as usual
    assert gc.isenabled()
