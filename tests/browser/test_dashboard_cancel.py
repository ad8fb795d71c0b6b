"""A canceled job on the dashboard (issue 16, item 3): its bar is grey, not the red of failures."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.async_api import expect

from corthex.testing import ServeProcess


async def test_a_canceled_job_shows_a_grey_bar_not_a_red_one(page: Any, server: ServeProcess) -> None:
    requests = [{"custom_id": f"c{i}", "model": "gpt-5-mini", "prompt": f"취소될 질문 {i}"} for i in range(4)]
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        job_id = (await client.post("/jobs", json={"requests": requests, "queue": True})).json()["job_id"]
        assert (await client.post(f"/jobs/{job_id}/cancel")).json()["stopped"]["canceled"] == 4
    await page.reload()
    job = page.locator(f".job[data-job={job_id}]")
    await expect(job.locator(".badge")).to_have_text("canceled", timeout=10_000)
    bar = job.locator(".provider[data-provider=openai]")
    await expect(bar.locator(".canceled")).to_have_attribute("style", "width:100%")
    await expect(bar.locator(".bad")).to_have_attribute("style", "width:0%")
    await expect(bar.locator(".canceled")).to_have_css("background-color", "rgb(168, 173, 184)")  # grey
    await expect(bar.locator(".muted")).to_have_text("4/4")
