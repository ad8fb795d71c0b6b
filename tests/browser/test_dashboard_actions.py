"""The dashboard's buttons for control over running work (issue 16, items 2, 8 and 9): cancel a
job, retry its failed and expired requests as a new job, stop a chain and run it again.

Cancel (POST /jobs/{id}/cancel) exists; retry (POST /jobs/{id}/retry) and the chain's stop and
run again (POST /chains/{id}/cancel, /rerun) come from other branches of issue 16: those tests
fail until they are merged."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx
from playwright.async_api import expect

from corthex.testing import ServeProcess

FAILING = "[[emulator:error]]"


async def _post(server: ServeProcess, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        answer: dict[str, Any] = (await client.post(path, json=body)).json()
        return answer


async def _wait_for(server: ServeProcess, path: str, done: Any) -> None:
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        while not done((await client.get(path)).json()):
            assert time.monotonic() < deadline, path
            await asyncio.sleep(0.3)


async def test_cancel_a_running_job_from_its_detail(page: Any, server: ServeProcess) -> None:
    requests = [{"custom_id": f"slow{i}", "model": "gpt-5-mini", "prompt": f"question {i}"} for i in range(3)]
    job = (await _post(server, "/jobs", {"requests": requests, "queue": True}))["job_id"]  # stays open
    await page.goto(f"{server.url}/#/jobs/{job}")
    await expect(page.locator("#job-cancel")).to_be_visible()
    await page.click("#job-cancel")
    await expect(page.locator("#job-status")).to_have_text("canceled")
    await expect(page.locator("#job-cancel")).to_be_hidden()
    assert page.errors == []


async def test_retry_sends_the_failed_requests_again_as_a_new_job(page: Any, server: ServeProcess) -> None:
    requests = [
        {"custom_id": "ok", "model": "gpt-5-mini", "prompt": "fine"},
        {"custom_id": "bad", "model": "gpt-5-mini", "prompt": f"broken {FAILING}"},
    ]
    job = (await _post(server, "/jobs", {"requests": requests}))["job_id"]
    await _wait_for(server, f"/jobs/{job}", lambda j: j["status"] == "completed")
    await page.goto(f"{server.url}/#/jobs/{job}")
    await expect(page.locator("#job-retry")).to_be_visible()
    await page.click("#job-retry")
    await page.wait_for_function(f"!location.hash.endsWith('{job}') && location.hash.startsWith('#/jobs/job_')")
    await expect(page.locator("[data-figure=requests]")).to_have_text("1")  # only the failed one went again
    await expect(page.locator("#job-results tbody tr td.mono")).to_have_text("bad", timeout=30_000)
    assert page.errors == []


async def test_stop_a_running_chain_then_run_it_again(page: Any, server: ServeProcess) -> None:
    chain = (await _post(server, "/chains", {"command": "Quarterly review of everything", "broadcast": True}))["id"]
    await page.goto(f"{server.url}/#/chains/{chain}")
    view = page.locator("#chain-view")
    await expect(view).to_have_attribute("data-status", "running")
    await page.click("#chain-stop")
    await expect(view).to_have_attribute("data-status", re.compile(r"^(canceled|stopped)$"), timeout=30_000)
    await expect(page.locator("#chain-rerun")).to_be_visible()
    await expect(page.locator("#chain-stop")).to_be_hidden()

    await page.click("#chain-rerun")
    await page.wait_for_function(f"location.hash.startsWith('#/chains/') && !location.hash.endsWith('{chain}')")
    await expect(view).not_to_have_attribute("data-chain", chain)
    await expect(page.locator("#chain-command")).to_have_text("Quarterly review of everything")
    assert page.errors == []


async def test_a_chain_started_with_a_deadline_shows_it_and_when_it_and_its_steps_are_predicted_to_finish(
    page: Any,
) -> None:
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    await page.fill("#command", "삼성전자 주가 분석")
    await page.fill("#deadline", "1d")
    await page.click("#start")
    view = page.locator("#chain-view")
    await expect(view).to_have_attribute("data-status", "running")
    shown = page.locator("#chain-deadline")
    await expect(shown).to_contain_text("deadline ")
    await expect(shown).to_contain_text("predicted finish ")
    await expect(page.locator("#steps .step[data-state=pending] .eta").first).to_have_text(
        re.compile(r"^\d\d:\d\d:\d\d$")
    )
    chain = await page.evaluate(
        "fetch('/chains/' + document.querySelector('#chain-view').dataset.chain).then(r => r.json())"
    )
    assert chain["deadline"] > chain["created_at"] + 86_000
    await expect(view).to_have_attribute("data-status", "completed", timeout=60_000)
    await expect(shown).not_to_contain_text("predicted")  # done: only the deadline stays
    assert page.errors == []
