"""The operator's dashboard as a person uses it: a command becomes a live chain and a report,
a JSONL file goes through the queue, and a dropped connection resyncs without losing events."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import orjson
from playwright.async_api import expect

from corthex.testing import ServeProcess

STEP_RECORDER = """() => {
  window.stepHistory = [];
  const take = () => {
    const states = [...document.querySelectorAll('#steps .step')].map(s => `${s.dataset.step}:${s.dataset.state}`);
    const last = window.stepHistory[window.stepHistory.length - 1];
    if (states.length && states.join() !== last?.join()) window.stepHistory.push(states);
  };
  new MutationObserver(take).observe(document.getElementById('steps'), {childList: true, subtree: true});
}"""


async def test_a_broadcast_command_runs_live_to_its_report(page: Any) -> None:
    await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    await page.evaluate(STEP_RECORDER)
    await page.fill("#command", "Quarterly review of every department")
    await page.click("label[for=scope-broadcast]")
    await page.click("#start")

    view = page.locator("#chain-view")
    await expect(view).to_have_attribute("data-status", "running")
    await expect(page.locator("#chain-command")).to_have_text("Quarterly review of every department")
    await expect(page.locator(".agent[data-status=working]").first).to_be_visible()  # agents at work
    await expect(view).to_have_attribute("data-status", "completed", timeout=60_000)

    report = page.locator("#report")
    await expect(report.locator("h1")).to_have_text("All-department report")
    assert await report.locator("h2").count() >= 7  # the summary and every department
    assert "<script" not in await report.inner_html()
    await expect(page.locator("#steps .step[data-step=deliver]")).to_have_attribute("data-state", "done")
    assert await page.locator(".agent[data-status=succeeded]").count() >= 19 + 6 + 6 + 1
    assert (await page.locator("#chain-saving").inner_text()).startswith("$")
    assert await page.locator("#chain-elapsed").inner_text() != "–"

    history = await page.evaluate("window.stepHistory")
    running = [next((s.split(":")[0] for s in states if s.endswith(":running")), None) for states in history]
    seen = [step for i, step in enumerate(running) if step and step != running[i - 1]]
    # the steps advanced live, in their order (a short step may start and end between two draws)
    order = ["delegate", "specialists", "synthesize", "summary", "deliver"]
    assert len(seen) >= 2 and seen == sorted(seen, key=order.index), history

    await page.click(".tabs button[data-tab=costs]")  # today's cost against the budget, per day
    await expect(page.locator("#costs-today")).to_contain_text("Today")
    await expect(page.locator("#costs-chart svg g[data-day]")).to_have_count(14)
    await page.wait_for_function(  # today's bar (the chart is redrawn once the costs are read)
        "Number(document.querySelector('#costs-chart svg g[data-day]:last-of-type rect.cost').getAttribute('height')) > 0"
    )
    assert page.errors == []


async def test_queue_a_file_flush_it_and_see_the_job_finish(page: Any, tmp_path: Path) -> None:
    lines = [
        {"custom_id": f"q{i}", "model": model, "prompt": f"question {i}"}
        for i, model in enumerate(["gpt-5-mini", "claude-haiku-4-5", "gemini-2.5-flash"])
    ]
    path = tmp_path / "three.jsonl"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))

    await page.click(".tabs button[data-tab=queue]")
    await page.set_input_files("#queue-file", str(path))
    await page.click("#queue-add")
    await expect(page.locator("#queue-message")).to_contain_text("3 request(s) queued")
    await expect(page.locator("#queue-count")).to_have_text("3")
    job_id = await page.locator("#queue-list tr").first.get_attribute("data-job")

    await page.click("#queue-flush")
    await expect(page.locator("#queue-message")).to_have_text("3 request(s) sent")
    await expect(page.locator("#queue-count")).to_have_text("0")

    await page.click(".tabs button[data-tab=jobs]")
    job = page.locator(f".job[data-job={job_id}]")
    await expect(job.locator(".badge")).to_have_text("completed", timeout=30_000)
    for provider in ("openai", "anthropic", "gemini"):
        await expect(job.locator(f".provider[data-provider={provider}] .ok")).to_have_attribute("style", "width:100%")
    await job.click()
    await expect(page.locator("#job-download")).to_have_attribute("href", f"/jobs/{job_id}/results")
    await expect(page.locator("#job-results tbody tr")).to_have_count(3)

    async with page.expect_download() as download:
        await page.click("#job-download")
    saved = tmp_path / "results.jsonl"
    await (await download.value).save_as(saved)
    assert [orjson.loads(line)["custom_id"] for line in saved.read_text().splitlines()] == ["q0", "q1", "q2"]

    await page.click("#detail-back")  # the detail is a page of its own: back to the lists
    await page.click(".tabs button[data-tab=queue]")  # and a clear: asks once more, then cancels
    await page.set_input_files("#queue-file", str(path))
    await page.click("#queue-add")
    await expect(page.locator("#queue-count")).to_have_text("3")
    await page.click("#queue-clear")
    await expect(page.locator("#queue-clear")).to_have_text("Really clear?")
    await page.click("#queue-clear")
    await expect(page.locator("#queue-message")).to_have_text("3 request(s) in 1 job(s) canceled")
    await expect(page.locator("#queue-count")).to_have_text("0")
    await expect(page.locator("#queue-list tr")).to_have_count(0)
    assert page.errors == []


async def test_a_dropped_connection_reconnects_and_resyncs_without_losing_events(
    page: Any, server: ServeProcess
) -> None:
    conn = page.locator("#conn")
    await expect(conn).to_have_attribute("data-state", "live")
    await page.evaluate("window.firstSocket = window.corthex.live.ws; window.corthex.live.drop()")
    await page.wait_for_function(  # a new socket, opened by itself after the backoff
        "window.corthex.live.ws !== window.firstSocket && window.corthex.live.ws.readyState === WebSocket.OPEN"
    )
    await expect(conn).to_have_attribute("data-state", "live")

    # Drop it again and hold the reconnect while work happens, then let it resume.
    await page.evaluate("""() => {
      const live = window.corthex.live;
      window.seqs = [];
      const onEvent = live.onEvent;
      live.onEvent = (m) => { window.seqs.push(m.seq); onEvent(m); };
      live.schedule = () => { window.resume = () => { delete live.schedule; live.connect(); }; };
      window.seqBefore = live.lastSeq;
      live.drop();
    }""")
    await page.wait_for_function("typeof window.resume === 'function'")  # closed, reconnect held
    await expect(conn).to_have_attribute("data-state", "offline")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        chain = (await client.post("/chains", json={"command": "Review our cloud infrastructure costs"})).json()
        job = (
            await client.post("/jobs", json={"requests": [{"custom_id": "a", "model": "gpt-5-mini", "prompt": "hi"}]})
        ).json()
    await page.wait_for_timeout(1500)  # events pile up while the page is away
    await page.evaluate("window.resume()")
    await expect(conn).to_have_attribute("data-state", "live")

    await expect(page.locator("#chain-view")).to_have_attribute("data-chain", chain["id"])
    await expect(page.locator("#chain-view")).to_have_attribute("data-status", "completed", timeout=60_000)
    await expect(page.locator("#report h1")).to_be_visible()
    await page.click(".tabs button[data-tab=jobs]")
    await expect(page.locator(f".job[data-job={job['job_id']}] .badge")).to_have_text("completed")

    before, seqs = await page.evaluate("[window.seqBefore, window.seqs]")
    assert (
        before is not None and seqs and seqs == list(range(before + 1, before + 1 + len(seqs)))
    )  # every missed event, in order
    assert page.errors == []


async def test_the_api_token_is_asked_for_once_and_kept(page: Any, emulator: Any, tmp_path: Path) -> None:
    token = "dashboard-token-" + tmp_path.name
    secured = ServeProcess(tmp_path / "secured", emulator.env(), CORTHEX_API_TOKEN=token)
    await asyncio.to_thread(secured.start)
    try:
        await page.goto(secured.url + "/")
        await expect(page.locator("#token-dialog")).to_be_visible()
        await page.fill("#token-input", token)
        await page.click("#token-save")
        await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        await expect(page.locator("#costs-today")).to_contain_text("Today")
        assert await page.evaluate("localStorage.getItem('corthex.apiToken')") == token

        await page.reload()  # kept: no second question
        await expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        await expect(page.locator("#token-dialog")).to_be_hidden()
        assert page.errors == []
    finally:
        await asyncio.to_thread(secured.stop)


async def test_a_restarted_server_is_reconnected_to_and_shows_what_happened_meanwhile(
    page: Any, emulator: Any, tmp_path: Path
) -> None:
    own = ServeProcess(tmp_path / "restarted", emulator.env())
    await asyncio.to_thread(own.start)
    try:
        await page.goto(own.url + "/")
        conn = page.locator("#conn")
        await expect(conn).to_have_attribute("data-state", "live")
        await asyncio.to_thread(own.stop)
        await expect(conn).to_have_attribute("data-state", "offline")
        await asyncio.to_thread(own.start)  # the same port and database; a new event numbering
        async with httpx.AsyncClient(base_url=own.url, timeout=30) as client:
            chain = (await client.post("/chains", json={"command": "Review our cloud infrastructure costs"})).json()
        await expect(conn).to_have_attribute("data-state", "live", timeout=30_000)  # by itself
        view = page.locator("#chain-view")
        await expect(view).to_have_attribute("data-chain", chain["id"])  # followed, from the snapshot
        await expect(view).to_have_attribute("data-status", "completed", timeout=60_000)
        await expect(page.locator("#report h1")).to_be_visible()
        assert page.errors == []
    finally:
        await asyncio.to_thread(own.stop)


MARKDOWN = """# 보고서
1. 첫째

2. 둘째 **굵게**
   이어지는 줄
   - 하위 항목
3. 셋째

| 부서 | 비용 |
|---|---:|
| CTO | $1 |

> 인용 <script>alert(1)</script>
"""


async def test_reports_render_as_markdown_nested_lists_and_all_escaped(page: Any) -> None:
    html = await page.evaluate("async (md) => (await import('/md.js')).renderMarkdown(md)", MARKDOWN)
    assert "<h1>보고서</h1>" in html
    assert html.count("<ol>") == 1  # one numbered list across the blank line
    assert "<li>둘째 <strong>굵게</strong><br>이어지는 줄<ul><li>하위 항목</li></ul></li>" in html
    assert '<th style="text-align:right">비용</th>' in html
    assert "<script" not in html and "&lt;script&gt;" in html


async def test_the_api_docs_are_served_by_the_server_itself(page: Any) -> None:
    """/docs (Swagger UI) loads nothing from a CDN: it works on a machine without internet."""
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
    await page.goto(page.url.rstrip("/") + "/docs")
    await expect(page.locator(".opblock-summary-path", has_text="/jobs/{job_id}/results")).to_be_visible()
    assert all(host.startswith("127.0.0.1:") for host in hosts), hosts
