"""The dashboard in Korean or English (issue 16, item 10): the server's setting picks the default,
the header's switch overrides it and is remembered; and a batch shared by several jobs says so in
the job's detail (item 4)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dashboard_screens import SCREENS
from playwright.async_api import expect

from corthex.testing import ServeProcess

TABS_KO = ["체인", "작업", "대기열", "보관함", "비용"]
TABS_EN = ["Chains", "Jobs", "Queue", "Archive", "Costs"]
#: a catalogue key shown as it is (a key the catalogue lacks): "col.model", "fig.cost", …
RAW_KEY = re.compile(r"\b(?:col|fig|jobs|chain|costs|ladder|conn|queue|results|tab|search|filter)\.[a-z_]+\b")


@pytest.fixture
async def korean(emulator: Any, tmp_path: Path) -> AsyncIterator[ServeProcess]:
    own = ServeProcess(tmp_path / "ko", emulator.env(), CORTHEX_LANGUAGE="ko")
    await asyncio.to_thread(own.start)
    try:
        yield own
    finally:
        await asyncio.to_thread(own.stop)


async def _done(client: httpx.AsyncClient, path: str, done: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:
        body: dict[str, Any] = (await client.get(path)).json()
        if done(body):
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.3)


async def _no_raw_keys(page: Any) -> None:
    text = await page.locator("body").inner_text()
    assert not RAW_KEY.findall(text), RAW_KEY.findall(text)


async def test_the_dashboard_speaks_the_servers_language_and_the_switch_is_remembered(
    page: Any, korean: ServeProcess
) -> None:
    async with httpx.AsyncClient(base_url=korean.url, timeout=30) as client:
        assert (await client.get("/i18n")).json()["lang"] == "ko"
        english = (await client.get("/i18n", params={"lang": "en"})).json()
        assert english["lang"] == "en" and english["default"] == "ko" and english["strings"]["tab.jobs"] == "Jobs"
        requests = [
            {"custom_id": "r0", "model": "gpt-5-mini", "prompt": "다음 분기 매출 전망을 요약해 주세요"},
            {"custom_id": "r1", "model": "claude-haiku-4-5", "prompt": "고객 리뷰를 분류해 주세요 [[emulator:error]]"},
        ]
        job = (await client.post("/jobs", json={"requests": requests, "label": "리뷰-분류"})).json()["job_id"]
        chain = (await client.post("/chains", json={"command": "클라우드 인프라 비용을 검토해 줘"})).json()["id"]
        await _done(client, f"/jobs/{job}", lambda j: j["status"] == "completed")
        await _done(client, f"/chains/{chain}", lambda c: c["status"] != "running")

    await page.goto(f"{korean.url}/#/chains/{chain}")
    tabs = page.locator(".tabs [data-i18n^='tab.']")
    await expect(tabs).to_have_text(TABS_KO)  # the server's default: CORTHEX_LANGUAGE=ko
    await expect(page.locator("html")).to_have_attribute("lang", "ko")
    await expect(page.locator("#start")).to_have_text("체인 시작")
    await expect(page.locator("#chain-status")).to_have_text("완료")  # app code's words too
    await expect(page.locator("#steps .step[data-step=specialists]")).to_contain_text("전문가")
    await expect(page.locator("#conn-text")).to_have_text("실시간 연결")
    await expect(page.locator("#chain-command")).to_have_text("클라우드 인프라 비용을 검토해 줘")  # data as it is
    await expect(page.locator("#lang-switch")).to_have_value("ko")
    await expect(page.locator(f"#chains-list tr[data-chain='{chain}'] .badge")).to_have_text("완료")
    await expect(page.locator("#budget-text")).to_contain_text("예산 없음")
    await _no_raw_keys(page)
    SCREENS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENS / "dashboard-ko.png"), full_page=False)

    await page.goto(f"{korean.url}/#/jobs/{job}")
    await expect(page.locator("#job-status")).to_have_text("완료")
    await expect(page.locator("[data-figure=failed]")).to_have_text("1")
    await expect(page.locator("#job-results thead")).to_contain_text("모델")
    await expect(page.locator("#job-retry")).to_have_text("실패·만료 요청 재시도")
    await expect(page.locator("#job-results tbody tr[data-status=failed] .badge")).to_have_text("실패")
    # a batch's done count includes its failed requests: 1 of 1 done, 1 failed (not "2/1")
    anthropic_batch = page.locator("#detail-body tr", has=page.locator("td", has_text="anthropic")).last
    await expect(anthropic_batch.locator("td.done")).to_contain_text("실패")
    assert (await anthropic_batch.locator("td.done").inner_text()).split()[0] in ("1/1", "2/2")
    await _no_raw_keys(page)
    await page.screenshot(path=str(SCREENS / "dashboard-ko-job.png"), full_page=True)

    await page.select_option("#lang-switch", "en")  # the switch relabels the page and redraws
    await expect(page.locator("#job-retry")).to_have_text("Retry failed & expired")
    await expect(page.locator("#detail-back")).to_have_text("← Jobs")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await page.goto(f"{korean.url}/#/chains")
    await page.reload()  # remembered in this browser, over the server's default
    await expect(tabs).to_have_text(TABS_EN)
    await expect(page.locator("#lang-switch")).to_have_value("en")
    await page.select_option("#lang-switch", "ko")
    await expect(tabs).to_have_text(TABS_KO)
    await page.reload()
    await expect(tabs).to_have_text(TABS_KO)
    assert page.errors == []


async def test_the_default_is_english_when_the_server_says_so(page: Any, server: ServeProcess) -> None:
    # this module's server says CORTHEX_LANGUAGE=en
    await expect(page.locator(".tabs [data-i18n^='tab.']")).to_have_text(TABS_EN)
    await expect(page.locator("#lang-switch")).to_have_value("en")
    assert page.errors == []


async def test_a_batch_shared_by_two_jobs_says_how_much_of_it_is_the_jobs_own(page: Any, server: ServeProcess) -> None:
    one = [{"custom_id": f"a{i}", "model": "claude-haiku-4-5", "prompt": f"요약 {i}"} for i in range(3)]
    two = [{"custom_id": f"b{i}", "model": "claude-haiku-4-5", "prompt": f"번역 {i}"} for i in range(2)]
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        first = (await client.post("/jobs", json={"requests": one, "queue": True})).json()["job_id"]
        second = (await client.post("/jobs", json={"requests": two, "queue": True})).json()["job_id"]
        await client.post("/queue/flush")  # one batch carries both jobs' requests
        await _done(client, f"/jobs/{first}", lambda j: j["status"] == "completed")
        await _done(client, f"/jobs/{second}", lambda j: j["status"] == "completed")

    await page.goto(f"{server.url}/#/jobs/{first}")
    share = page.locator("#detail-body td.share")
    await expect(share).to_have_text("3 of 5 (shared with 1 other job)")
    await expect(share).to_have_attribute("data-shared", "1")
    await page.goto(f"{server.url}/#/jobs/{second}")
    await expect(share).to_have_text("2 of 5 (shared with 1 other job)")
    await page.select_option("#lang-switch", "ko")
    await expect(share).to_have_text("5건 중 2건 (다른 작업 1개와 공유)")
    assert page.errors == []
