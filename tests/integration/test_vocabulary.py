"""One vocabulary through the whole engine (issue 16 item 5): the same per-request 400 on each
provider reads `invalid_request` in the output lines of `corthex results` (the provider's own
code beside it), and every batch shows a neutral `state` beside its raw status."""

from __future__ import annotations

from corthex.engine.engine import Engine

MODELS = {"openai": "gpt-5-mini", "anthropic": "claude-sonnet-4-6", "gemini": "gemini-2.5-flash"}
#: what each provider calls the same fault (the emulator answers in each real shape)
RAW_CODES = {"openai": "invalid_request_error", "anthropic": "invalid_request_error", "gemini": "INVALID_ARGUMENT"}


async def test_the_same_fault_reads_the_same_in_results_and_batches_show_one_state(engine: Engine) -> None:
    lines = [
        {"custom_id": f"{p}-{kind}", "model": model, "prompt": f"오늘 일정 알려줘{hook}"}
        for p, model in MODELS.items()
        for kind, hook in (("ok", ""), ("bad", " [[emulator:error]]"))
    ]
    report = await engine.submit(lines)
    await engine.wait(report.job_id, timeout=60)
    out = {line["custom_id"]: line async for line in engine.results(report.job_id)}
    for provider in MODELS:
        bad = out[f"{provider}-bad"]
        assert bad["status"] == "failed" and bad["error"]["type"] == "invalid_request", bad
        assert bad["error"]["code"] in (RAW_CODES[provider], "code_400"), bad  # the SDK may drop Gemini's status
        assert out[f"{provider}-ok"]["error"] is None
    batches = await engine.batches(report.job_id)
    assert {b.provider.value for b in batches} == set(MODELS)
    assert {b.to_dict()["state"] for b in batches} == {"completed"}, [(b.provider, b.raw_status) for b in batches]
    assert len({b.raw_status for b in batches}) == 3  # three words for one state
