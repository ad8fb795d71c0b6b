"""The dashboard's views (issue 16, items 9, 11 and 12): every view has its own URL, a job opens
full-width with its summary, filters and downloads, lists filter and search, chain jobs stay out
of the jobs list unless asked for, agent cards show what was sent and when, dark mode and a
390 px phone read well, errors stay until dismissed, money has one precision per column."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from dashboard_screens import PHONE, shoot
from playwright.async_api import expect

from corthex.testing import ServeProcess

FAILING = "[[emulator:error]]"


def _wait_for(client: httpx.Client, path: str, done: Any, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(path).json()
        if done(body):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.3)


@pytest.fixture(scope="module")
def seeded(server: ServeProcess) -> Iterator[dict[str, str]]:
    """One job with a failed request, one finished single-department chain (its steps are jobs)."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        requests = [
            {"custom_id": "q0", "model": "gpt-5-mini", "prompt": "question zero"},
            {"custom_id": "q1", "model": "claude-haiku-4-5", "prompt": f"question one {FAILING}"},
            {"custom_id": "q2", "model": "gemini-2.5-flash", "prompt": "보고서를 써 주세요: 다음 분기 전망"},
        ]
        job = client.post("/jobs", json={"requests": requests, "label": "reviews-한국어"}).json()["job_id"]
        chain = client.post("/chains", json={"command": "Review our cloud infrastructure costs"}).json()["id"]
        _wait_for(client, f"/jobs/{job}", lambda j: j["status"] == "completed")
        _wait_for(client, f"/chains/{chain}", lambda c: c["status"] != "running")
        archive = client.get("/archive").json()
        yield {"job": job, "chain": chain, "archive": archive[0]["name"] if archive else ""}


async def _live(page: Any) -> None:
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live")


async def test_a_job_opens_full_width_at_its_own_url_and_again_on_reload(
    page: Any, server: ServeProcess, seeded: dict[str, str], tmp_path: Path
) -> None:
    job = seeded["job"]
    await page.goto(f"{server.url}/#/jobs/{job}")
    detail = page.locator("#detail")
    await expect(detail).to_be_visible()
    await expect(page.locator("#main")).to_be_hidden()
    await expect(page.locator("#detail-body")).to_have_attribute("data-job", job)
    width = await detail.evaluate("e => e.getBoundingClientRect().width")
    assert width > 0.9 * 1400 - 40  # full width, not the narrow column
    await expect(page.locator("[data-figure=failed]")).to_have_text("1")
    await expect(page.locator("[data-figure=succeeded]")).to_have_text("2")
    await expect(page.locator("#detail-title")).to_contain_text("2026-" if time.gmtime().tm_year == 2026 else "-")
    await expect(page.locator("#job-results tbody tr")).to_have_count(3)
    await expect(page.locator("#job-retry")).to_be_visible()  # a failed request: retry is offered
    await expect(page.locator("#job-cancel")).to_be_hidden()  # ended: nothing to cancel

    await page.select_option("#results-status", "failed")  # the status filter
    await expect(page.locator("#job-results tbody tr")).to_have_count(1)
    await expect(page.locator("#job-results tbody tr")).to_have_attribute("data-status", "failed")
    await page.select_option("#results-status", "")
    await expect(page.locator("#job-results tbody tr")).to_have_count(3)
    await page.fill("#results-search", "q2")  # the search
    await expect(page.locator("#job-results tbody tr td.mono")).to_have_text(["q2"])

    async with page.expect_download() as download:  # the failed ones only
        await page.click("#job-download-failed")
    saved = tmp_path / "failed.jsonl"
    await (await download.value).save_as(saved)
    lines = [orjson.loads(line) for line in saved.read_text().splitlines()]
    assert [(r["custom_id"], r["status"]) for r in lines] == [("q1", "failed")]

    await page.reload()  # a deep link survives a reload
    await expect(page.locator("#detail-body")).to_have_attribute("data-job", job)
    await expect(page.locator("#job-results tbody tr")).to_have_count(3)
    await page.click("#detail-back")
    await expect(page.locator("#main")).to_be_visible()
    await expect(page.locator("#tab-jobs")).to_be_visible()
    assert page.url.endswith("#/jobs")
    assert page.errors == []


async def test_chain_jobs_are_hidden_from_the_jobs_list_until_asked_for_and_lists_filter(
    page: Any, seeded: dict[str, str]
) -> None:
    await _live(page)
    await page.click(".tabs button[data-tab=jobs]")
    assert page.url.endswith("#/jobs")
    await expect(page.locator(f".job[data-job={seeded['job']}]")).to_be_visible()
    await expect(page.locator(".job[data-source=chain]")).to_have_count(0)
    await page.check("#jobs-chains")
    await expect(page.locator(".job[data-source=chain]").first).to_be_visible()
    await page.fill("#jobs-search", "한국어")  # search by label, in Korean
    await expect(page.locator(".job")).to_have_count(1)
    await page.fill("#jobs-search", "")
    await page.select_option("#jobs-status", "running")  # nothing is running now
    await expect(page.locator(".job")).to_have_count(0)
    await expect(page.locator("#jobs-list")).to_contain_text("No jobs match")

    await page.click(".tabs button[data-tab=chains]")
    await expect(page.locator(f"#chains-list tr[data-chain={seeded['chain']}]")).to_be_visible()
    await page.fill("#chains-search", "no such command anywhere")
    await expect(page.locator("#chains-list tr")).to_have_count(0)
    await page.fill("#chains-search", "cloud infrastructure")
    await expect(page.locator(f"#chains-list tr[data-chain={seeded['chain']}]")).to_be_visible()
    await page.select_option("#chains-status", "failed")
    await expect(page.locator("#chains-list tr")).to_have_count(0)
    assert page.errors == []


async def test_chains_and_archived_reports_have_deep_links(
    page: Any, server: ServeProcess, seeded: dict[str, str]
) -> None:
    chain = seeded["chain"]
    await page.goto(f"{server.url}/#/chains/{chain}")
    await expect(page.locator("#chain-view")).to_have_attribute("data-chain", chain)
    await expect(page.locator(f"#chains-list tr[data-chain={chain}]")).to_have_class("selected")
    await expect(page.locator("#chain-started")).to_contain_text("started 20")  # a date, not only a time
    await expect(page.locator("#chain-rerun")).to_be_visible()  # ended: run again, not stop
    await expect(page.locator("#chain-stop")).to_be_hidden()

    # Agent cards: the prompt that was sent and the step's timing.
    group = page.locator("details.step-group[data-step=specialists]")
    await group.locator(":scope > summary").click()
    card = group.locator(".agent").first
    await card.locator(".prompt summary").click()
    await expect(card.locator(".prompt pre").last).to_contain_text("Review our cloud infrastructure costs")
    await expect(card.locator(".agent-time")).to_have_text(__import__("re").compile(r"^\d+(\.\d)?s$|^\d+m \d+s$"))
    await expect(group.locator(".step-timing")).to_contain_text("took")
    # The emulator's answers are Markdown: headings render as headings, never a literal `###`.
    await card.locator("details.answer summary").click()
    await expect(card.locator("details.answer .markdown h3").first).to_be_visible()
    assert "###" not in await card.locator("details.answer .markdown").inner_text()

    assert seeded["archive"], "the chain archived its report"
    await page.goto(f"{server.url}/#/archive/{seeded['archive']}")
    await expect(page.locator("#detail-body")).to_have_attribute("data-archive", seeded["archive"])
    text = page.locator("#archive-text")
    await expect(text).to_be_visible()
    assert await page.locator("#detail").evaluate("e => e.getBoundingClientRect().width") > 1200  # full width
    await page.reload()
    await expect(page.locator("#archive-text")).to_be_visible()
    assert page.errors == []


async def test_the_emulator_badge_and_costs_by_provider_model_and_department(page: Any, seeded: dict[str, str]) -> None:
    await _live(page)
    badge = page.locator("#emulator")
    await expect(badge).to_be_visible()
    await expect(badge).to_have_attribute("data-providers", re.compile(r"^openai,anthropic,gemini(,|$)"))
    await page.click(".tabs button[data-tab=costs]")
    breakdown = page.locator("#costs-breakdown")
    for provider in ("openai", "anthropic", "gemini"):
        await expect(breakdown.locator(f"table[data-by=provider] tr[data-provider={provider}]")).to_be_visible()
    await expect(breakdown.locator("table[data-by=model] tr[data-model=gpt-5-mini]")).to_be_visible()
    await expect(breakdown.locator("table[data-by=department] tr[data-department=jobs]")).to_be_visible()
    assert await breakdown.locator("table[data-by=department] tbody tr").count() >= 2  # a department and "jobs"
    # one precision per column, never $0.000000
    for by in ("provider", "model", "department"):
        amounts = await breakdown.locator(f"table[data-by={by}] td.money").all_inner_texts()
        assert len({len(a.split(".")[1]) for a in amounts if "." in a}) == 1, amounts
        assert not any(a.startswith("$0.0") and set(a[3:]) == {"0"} for a in amounts), amounts  # never $0.000000
    assert page.errors == []


MONEY = """async () => {
  const { usd, columnDigits, when } = await import('/format.js');
  return [usd(0.0012), usd(0), usd(0.00000004), usd(1.2345), usd(0.05), usd(null),
          columnDigits([0.0012, 1.5, 0]), usd(1.5, columnDigits([0.0012, 1.5])), when(1767225600)];
}"""


async def test_money_has_a_consistent_precision_and_times_a_date(page: Any) -> None:
    shown = await page.evaluate(MONEY)
    assert shown[:6] == ["$0.0012", "$0", "<$0.000001", "$1.23", "$0.050", "–"]
    assert shown[6:8] == [4, "$1.5000"]
    assert shown[8].startswith("2026-01-01 ")  # a date and a time (the page's time zone)


async def test_dark_mode_follows_the_system_setting(page: Any, seeded: dict[str, str], server: ServeProcess) -> None:
    await page.emulate_media(color_scheme="dark")
    await page.goto(f"{server.url}/#/chains/{seeded['chain']}")
    await expect(page.locator("#chain-view")).to_have_attribute("data-chain", seeded["chain"])

    def luminance(css: str) -> float:
        r, g, b = (int(x) for x in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255

    body_bg = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    panel_bg = await page.locator("#chain-view").evaluate("e => getComputedStyle(e).backgroundColor")
    ink = await page.locator("#chain-command").evaluate("e => getComputedStyle(e).color")
    field = await page.locator("#command").evaluate("e => getComputedStyle(e).backgroundColor")
    assert luminance(body_bg) < 0.15 and luminance(panel_bg) < 0.2 and luminance(field) < 0.2
    assert luminance(ink) > 0.75  # light text on the dark panel
    await page.emulate_media(color_scheme="light")
    assert luminance(await page.evaluate("getComputedStyle(document.body).backgroundColor")) > 0.9
    assert page.errors == []


async def test_a_390px_phone_shows_every_tab_and_whole_step_names(
    page: Any, seeded: dict[str, str], server: ServeProcess
) -> None:
    await page.set_viewport_size(PHONE)
    await page.goto(f"{server.url}/#/chains/{seeded['chain']}")
    await expect(page.locator("#chain-view")).to_have_attribute("data-chain", seeded["chain"])
    costs = page.locator(".tabs button[data-tab=costs]")
    await expect(costs).to_be_visible()
    box = await costs.bounding_box()
    panel = await page.locator(".tabs").bounding_box()
    assert box and panel and box["x"] >= panel["x"] - 1 and box["x"] + box["width"] <= panel["x"] + panel["width"] + 1
    assert box["x"] + box["width"] <= PHONE["width"]  # "Costs" is on screen, not cut off
    cut = await page.evaluate(
        "[...document.querySelectorAll('#steps .step')].filter(s => s.scrollWidth > s.clientWidth + 1).map(s => s.textContent)"
    )
    assert cut == []  # every step chip reads in full ("Specialists", not "Speciali…")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll
    await page.goto(f"{server.url}/#/jobs/{seeded['job']}")
    await expect(page.locator("#job-results tbody tr")).to_have_count(3)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.errors == []


async def test_a_validation_error_stays_until_dismissed(page: Any, tmp_path: Path) -> None:
    await _live(page)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"custom_id": "a", "model": "gpt-5-mini"}\n', encoding="utf-8")  # no prompt
    await page.click(".tabs button[data-tab=jobs]")
    await page.set_input_files("#job-file", str(bad))
    await page.click("#job-submit")
    toast = page.locator("#toast")
    await expect(toast).to_be_visible()
    await expect(page.locator("#toast-text")).to_contain_text("line 1")
    await page.wait_for_timeout(6000)  # the old toast vanished after 5 s
    await expect(toast).to_be_visible()
    await page.click("#toast-close")
    await expect(toast).to_be_hidden()
    assert page.errors == []


async def test_screens_of_the_job_detail_and_a_running_broadcast(
    page: Any, server: ServeProcess, seeded: dict[str, str]
) -> None:
    await page.goto(f"{server.url}/#/jobs/{seeded['job']}")
    await expect(page.locator("#job-results tbody tr")).to_have_count(3)
    await shoot(page, "job-detail")

    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        started = await client.post("/chains", json={"command": "전 부서 분기 검토 보고서", "broadcast": True})
    chain = started.json()["id"]
    await page.goto(f"{server.url}/#/chains/{chain}")
    specialists = page.locator("#steps .step[data-step=specialists]")
    await expect(specialists).to_have_attribute("data-state", "running", timeout=60_000)
    await expect(page.locator(".agent[data-status=working]").first).to_be_visible()
    await shoot(page, "broadcast-running", full_page=False)
    await expect(page.locator("#chain-view")).to_have_attribute("data-status", "completed", timeout=90_000)
    assert page.errors == []


async def test_a_chain_stopped_by_the_budget_shows_why_and_offers_run_again(
    page: Any, emulator: Any, tmp_path: Path
) -> None:
    own = ServeProcess(tmp_path / "budget", emulator.env(), CORTHEX_DAILY_BUDGET_USD="0.3")
    await asyncio.to_thread(own.start)
    try:
        async with httpx.AsyncClient(base_url=own.url, timeout=30) as client:
            chain = (await client.post("/chains", json={"command": "Quarterly review", "broadcast": True})).json()["id"]
        await page.goto(f"{own.url}/#/chains/{chain}")
        view = page.locator("#chain-view")
        await expect(view).to_have_attribute("data-status", "stopped", timeout=60_000)
        await expect(page.locator("#steps .step[data-state=stopped]").first).to_be_visible()
        await expect(page.locator("#chain-rerun")).to_be_visible()
        await expect(page.locator("#chain-stop")).to_be_hidden()
        await shoot(page, "chain-stopped")
        assert page.errors == []
    finally:
        await asyncio.to_thread(own.stop)
