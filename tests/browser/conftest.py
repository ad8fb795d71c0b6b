"""The dashboard in a real headless Chromium (Debian's, never a downloaded one) driven by
Playwright, against a real `corthex serve` process and the emulator. A failing test leaves a
screenshot in its tmp dir and prints the path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from corthex.emulator import EmulatorServer
from corthex.testing import ServeProcess

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is not installed (run scripts/system-deps.sh or `make test`)", allow_module_level=True
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)  # lets the page fixture see a failed test
    return report


@pytest.fixture(scope="module")
def emulator_speed() -> float:
    return 0.5  # slow enough to watch steps advance


@pytest.fixture(scope="module", autouse=True)
def english() -> Iterator[None]:
    """The dashboard speaks English in these tests (the default time zone, Asia/Seoul, would make
    it Korean): a test of the Korean dashboard starts its own server with CORTHEX_LANGUAGE=ko."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CORTHEX_LANGUAGE", "en")
        yield


@pytest.fixture(scope="module")
def server(english: None, emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with ServeProcess(tmp_path_factory.mktemp("dashboard"), emulator.env()) as s:
        yield s


@pytest.fixture
async def page(request: pytest.FixtureRequest, server: ServeProcess, tmp_path: Path) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=20_000)  # a loaded 2-core CI machine is slow; failures still end

    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user-data dir per test
            executable_path=str(CHROMIUM),
            args=ARGS,
            headless=True,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            page.errors = []  # uncaught page errors fail the test
            page.on("pageerror", lambda error: page.errors.append(str(error)))
            page.set_default_timeout(20_000)
            await page.goto(server.url + "/")
            yield page
            failed = getattr(request.node, "rep_call", None)
            if failed is not None and failed.failed:
                shot = tmp_path / "failure.png"
                await page.screenshot(path=str(shot), full_page=True)
                print(f"screenshot of the failure: {shot}")
        finally:
            await context.close()
