"""pytest fixtures for the stub; wire them with
``from tests.stub_botapi.fixtures import stub_botapi, stub_bot  # noqa: F401`` in conftest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import telegram

from .server import StubBotApi


@pytest.fixture
def stub_botapi() -> Iterator[StubBotApi]:
    """A started ``StubBotApi`` (token ``123:ABC``), stopped after the test."""
    stub = StubBotApi().start()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
async def stub_bot(stub_botapi: StubBotApi) -> AsyncIterator[telegram.Bot]:
    """An initialized ``telegram.Bot`` talking to ``stub_botapi``."""
    bot = telegram.Bot(
        stub_botapi.token,
        base_url=stub_botapi.base_url,
        base_file_url=stub_botapi.base_file_url,
    )
    async with bot:
        yield bot
