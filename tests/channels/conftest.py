"""Fixtures shared by the live channel tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from carepath.emulator import create_emulator
from tests.live import serving


@pytest.fixture
async def emulator_url() -> AsyncIterator[str]:
    """The provider emulator (Twilio-compatible and Graph API) on a loopback port."""
    async with serving(create_emulator(), lifespan=True) as url:
        yield url
