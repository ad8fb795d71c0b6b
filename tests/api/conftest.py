"""One emulator (tests/conftest.py) and one `corthex serve` process per module (starting a server takes ~2 s);
tests that need other settings (a token, a webhook secret) start their own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from api_helpers import WEBHOOK_SECRET

from corthex.emulator import EmulatorServer
from corthex.testing import ServeProcess


@pytest.fixture(scope="module")
def emulator_speed() -> float:
    return 0.05


@pytest.fixture(scope="module")
def server(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with ServeProcess(tmp_path_factory.mktemp("serve"), emulator.env(), OPENAI_WEBHOOK_SECRET=WEBHOOK_SECRET) as s:
        yield s


@pytest.fixture
async def client(server: ServeProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
        yield c
