"""Jobs, the queue and batches over real HTTP against `corthex serve` (a separate process)."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
from api_helpers import MIXED, job_done

from corthex.emulator import EmulatorServer
from corthex.testing import ServeProcess, wait_until


async def test_submit_a_job_and_stream_its_results(client: httpx.AsyncClient) -> None:
    created = await client.post("/jobs", json={"requests": MIXED, "label": "mixed"})
    assert created.status_code == 201, created.text
    job_id = created.json()["job_id"]
    assert created.json()["total"] == len(MIXED)

    job = await job_done(client, job_id)
    assert job["status"] == "completed" and job["succeeded"] == len(MIXED)
    assert set(job["by_provider"]) == {"openai", "anthropic", "gemini"}
    assert {b["provider"] for b in job["batch_list"]} == {"openai", "anthropic", "gemini"}

    async with client.stream("GET", f"/jobs/{job_id}/results") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-ndjson")
        assert f'filename="{job_id}-results.jsonl"' in response.headers["content-disposition"]
        lines = [orjson.loads(line) async for line in response.aiter_lines() if line]
    assert [line["custom_id"] for line in lines] == [r["custom_id"] for r in MIXED]  # input order
    assert all(line["status"] == "succeeded" and line["content"] for line in lines)
    assert set(lines[0]) == {
        "custom_id",
        "status",
        "content",
        "finish_reason",
        "parsed",
        "model",
        "provider",
        "usage",
        "cost_usd",
        "tier",
        "error",
        "attempts",
    }

    listed = (await client.get("/jobs", params={"limit": 5})).json()
    assert job_id in [j["id"] for j in listed]
    batches = (await client.get("/batches", params={"job_id": job_id})).json()
    assert len(batches) == 3 and all(b["status"] == "collected" and b["remote_id"] for b in batches)
    # one vocabulary for every provider, the provider's own word beside it (issue 16 item 5)
    assert {b["state"] for b in batches} == {"completed"} and len({b["raw_status"] for b in batches}) == 3
    one = await client.get(f"/batches/{batches[0]['id']}")
    assert one.status_code == 200 and one.json()["id"] == batches[0]["id"]


async def test_upload_a_jsonl_file(client: httpx.AsyncClient) -> None:
    body = b"".join(orjson.dumps(r) + b"\n" for r in MIXED[:3])
    created = await client.post("/jobs/upload", files={"file": ("three.jsonl", body, "application/x-ndjson")})
    assert created.status_code == 201, created.text
    job = await job_done(client, created.json()["job_id"])
    assert job["label"] == "three.jsonl" and job["succeeded"] == 3


async def test_an_invalid_line_is_named_and_nothing_is_submitted(client: httpx.AsyncClient) -> None:
    before = len((await client.get("/jobs", params={"limit": 1000})).json())
    bad = b'{"custom_id": "a", "model": "gpt-5-mini", "prompt": "x"}\n{"custom_id": "b", "prompt": "no model"}\n'
    refused = await client.post("/jobs/upload", files={"file": ("bad.jsonl", bad)})
    assert refused.status_code == 422
    [problem] = refused.json()["problems"]
    assert {k: problem[k] for k in ("line", "unit", "field")} == {"line": 2, "unit": "line", "field": "model"}
    assert "missing" in problem["reason"]
    assert len((await client.get("/jobs", params={"limit": 1000})).json()) == before


async def test_a_model_no_provider_serves_is_a_422_naming_the_item_and_field(client: httpx.AsyncClient) -> None:
    requests = [MIXED[0], {"custom_id": "x", "model": "llama-3-70b", "prompt": "hi"}]
    refused = await client.post("/jobs", json={"requests": requests})
    assert refused.status_code == 422
    [problem] = refused.json()["problems"]
    assert (problem["line"], problem["unit"], problem["field"]) == (2, "item", "model")
    assert "llama-3-70b" in problem["reason"] and "item 2" in refused.json()["detail"]


async def test_requests_a_provider_would_refuse_are_a_422_and_nothing_is_stored(client: httpx.AsyncClient) -> None:
    """Issue 12 item 12: a model of another provider, an output over the model's maximum and an
    unknown `$schema` were stored and sent, to be refused by the provider."""
    before = len((await client.get("/jobs", params={"limit": 1000})).json())
    requests = [
        MIXED[0],
        {"custom_id": "x", "model": "claude-sonnet-4-6", "provider": "gemini", "prompt": "안녕"},
        {"custom_id": "y", "model": "gpt-4o-mini", "prompt": "안녕", "max_output_tokens": 50_000},
        {"custom_id": "z", "model": "gemini-2.5-flash", "prompt": "안녕", "json_schema": {"$schema": "urn:my-draft"}},
    ]
    refused = await client.post("/jobs", json={"requests": requests})
    assert refused.status_code == 422, refused.text
    problems = [(p["line"], p["unit"], p["field"]) for p in refused.json()["problems"]]
    assert problems == [(2, "item", "provider"), (3, "item", "max_output_tokens"), (4, "item", "json_schema")]
    assert "item 3, field 'max_output_tokens': 50,000 is over gpt-4o-mini's largest" in refused.json()["detail"]
    assert len((await client.get("/jobs", params={"limit": 1000})).json()) == before


async def test_skip_invalid_submits_the_rest_and_reports_the_skipped(client: httpx.AsyncClient) -> None:
    requests = [MIXED[0], {"custom_id": "x", "model": "llama-3-70b", "prompt": "hi"}]
    created = await client.post("/jobs", json={"requests": requests, "skip_invalid": True})
    assert created.status_code == 201
    assert created.json()["total"] == 1 and created.json()["skipped"][0]["line"] == 2


async def test_malformed_and_invalid_bodies(client: httpx.AsyncClient) -> None:
    broken = await client.post("/jobs", content=b'{"requests": [', headers={"content-type": "application/json"})
    assert broken.status_code == 400 and "malformed JSON" in broken.json()["detail"]
    wrong_shape = await client.post("/jobs", json={"requests": "not a list"})
    assert wrong_shape.status_code == 422 and wrong_shape.json()["problems"][0]["field"] == "requests"
    empty = await client.post("/jobs", json={"requests": []})
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]


async def test_unknown_ids_are_404_with_a_detail(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("GET", "/jobs/job_nope"),
        ("GET", "/jobs/job_nope/results"),
        ("POST", "/jobs/job_nope/cancel"),
        ("GET", "/batches/nope"),
        ("GET", "/chains/ch_nope"),
        ("GET", "/archive/nope.md"),
        ("GET", "/archive/..%2Fserve.db"),
    ]:
        response = await client.request(method, path)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["detail"], path


async def test_queue_add_list_clear_and_flush(client: httpx.AsyncClient) -> None:
    added = await client.post("/queue", json={"requests": MIXED[:2], "label": "first"})
    assert added.status_code == 201 and added.json()["queued"]
    body = b"".join(orjson.dumps(r) + b"\n" for r in MIXED[2:5])
    uploaded = await client.post("/queue/upload", files={"file": ("more.jsonl", body)})
    assert uploaded.status_code == 201
    queue = (await client.get("/queue")).json()
    assert queue["requests"] == 5 and len(queue["jobs"]) == 2

    cleared = (await client.delete("/queue")).json()
    assert sorted(cleared["canceled_jobs"]) == sorted([added.json()["job_id"], uploaded.json()["job_id"]])
    assert cleared["canceled_requests"] == 5
    assert (await client.get("/queue")).json()["requests"] == 0
    assert (await client.get(f"/jobs/{added.json()['job_id']}")).json()["status"] == "canceled"

    again = (await client.post("/queue", json={"requests": MIXED[:3]})).json()
    assert (await client.post("/queue/flush")).json() == {"released": 3}
    job = await job_done(client, again["job_id"])
    assert job["succeeded"] == 3


async def test_cancel_a_queued_job(client: httpx.AsyncClient) -> None:
    queued = (await client.post("/jobs", json={"requests": MIXED[:2], "queue": True})).json()
    canceled = await client.post(f"/jobs/{queued['job_id']}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    body = canceled.json()
    assert (body["canceled"], body["failed"], body["finished"]) == (2, 0, 2)  # canceled apart from failed
    assert body["stopped"] == {
        "canceled": 2,
        "already_done": 0,
        "batches_canceled": 0,
        "message": "2 canceled, 0 already done",
    }
    listed = next(j for j in (await client.get("/jobs")).json() if j["id"] == queued["job_id"])
    assert listed["canceled"] == 2 and listed["failed"] == 0
    assert sum(c["canceled"] for c in listed["by_provider"].values()) == 2
    lines = (await client.get(f"/jobs/{queued['job_id']}/results")).text.splitlines()
    assert [orjson.loads(line)["status"] for line in lines] == ["canceled", "canceled"]
    again = await client.post(f"/jobs/{queued['job_id']}/cancel")
    assert again.status_code == 409 and "already canceled" in again.json()["detail"]


async def test_cancel_of_a_completed_job_is_refused_and_changes_nothing(client: httpx.AsyncClient) -> None:
    job_id = (await client.post("/jobs", json={"requests": MIXED[:3]})).json()["job_id"]
    assert (await job_done(client, job_id))["succeeded"] == 3
    refused = await client.post(f"/jobs/{job_id}/cancel")
    assert refused.status_code == 409
    assert refused.json()["detail"] == f"job {job_id} is already completed: nothing to cancel, nothing changed"
    job = (await client.get(f"/jobs/{job_id}")).json()
    assert job["status"] == "completed" and job["succeeded"] == 3


async def test_a_retried_submission_with_its_idempotency_key_creates_one_job(client: httpx.AsyncClient) -> None:
    """The client's first POST timed out (it never saw the answer) and it sent the same body again,
    twice at once: one job, and each answer names it (issue 12, item 3)."""
    body = {"requests": [{**r, "prompt": f"{r['prompt']} 재시도"} for r in MIXED[:4]]}
    key = {"Idempotency-Key": "order-7f3a"}
    jobs_before = len((await client.get("/jobs")).json())
    first = await client.post("/jobs", json=body, headers=key)
    retries = await asyncio.gather(*(client.post("/jobs", json=body, headers=key) for _ in range(2)))
    assert first.status_code == 201 and not first.json()["replayed"]
    assert [r.status_code for r in retries] == [200, 200]
    assert {r.json()["job_id"] for r in retries} == {first.json()["job_id"]}
    assert all(r.json()["replayed"] and r.json()["total"] == 4 for r in retries)
    assert len((await client.get("/jobs")).json()) == jobs_before + 1
    other = await client.post("/jobs", json={"requests": MIXED[:2]}, headers=key)
    assert other.status_code == 422 and "was used for other requests" in other.json()["detail"]
    upload = {"file": ("in.jsonl", "".join(orjson.dumps(r).decode() + "\n" for r in body["requests"]).encode())}
    uploaded = await client.post("/jobs/upload", files=upload, headers={"Idempotency-Key": "upload-1"})
    again = await client.post("/jobs/upload", files=upload, headers={"Idempotency-Key": "upload-1"})
    assert (uploaded.status_code, again.status_code) == (201, 200)
    assert again.json()["job_id"] == uploaded.json()["job_id"]


async def test_org_costs_health_and_metrics(client: httpx.AsyncClient) -> None:
    org = (await client.get("/org")).json()
    assert org["chief_of_staff"] in [d["id"] for d in org["departments"]]
    assert all("prompt" not in d["manager"] for d in org["departments"])

    last: list[dict] = []

    async def spent_and_settled() -> dict | None:
        """Some cost today, and two reads in a row alike: the module's jobs may still be landing
        results, and the day totals and the breakdown are two queries."""
        costs = (await client.get("/costs", params={"days": 3})).json()
        settled = bool(last) and costs == last[-1]
        last.append(costs)
        return costs if costs["today_usd"] > 0 and settled else None

    costs = await wait_until(spent_and_settled, what="some cost today, settled")
    assert len(costs["days"]) == 3 and costs["days"][-1]["cost_usd"] > 0
    assert costs["timezone"] and costs["budget_usd"] is None

    health = (await client.get("/healthz")).json()
    assert {k: v for k, v in health.items() if k != "emulated"} == {"status": "ok", "worker": True, "telegram": False}
    # the emulator answers every provider pointed at it (the shipped compatible servers too): the dashboard says so
    assert set(health["emulated"]) >= {"openai", "anthropic", "gemini", "groq"} and all(health["emulated"].values())
    breakdown = costs["breakdown"]  # by provider, model and department, beside the per-day chart
    assert set(breakdown) == {"by_provider", "by_model", "by_department"}
    assert sum(breakdown["by_provider"].values()) == pytest.approx(sum(d["cost_usd"] for d in costs["days"]))
    assert sum(breakdown["by_model"].values()) == pytest.approx(sum(breakdown["by_department"].values()))
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    for name in (
        "corthex_batches{",
        "corthex_requests{",
        "corthex_results{",
        "corthex_cost_usd{",
        "corthex_realtime_cost_usd{",
        "corthex_poll_calls{",
        "corthex_queue_requests ",
        "corthex_chains_running ",
        "corthex_batches_submitted_total{",
        "corthex_results_collected_total{",
        "corthex_events_total{",
    ):
        assert name in metrics.text, name
    docs = await client.get("/openapi.json")
    assert {"/jobs", "/jobs/{job_id}/results", "/queue/flush", "/chains", "/costs", "/webhooks/openai"} <= set(
        docs.json()["paths"]
    )


async def test_a_job_over_the_daily_budget_is_refused_with_402(
    emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with ServeProcess(tmp_path_factory.mktemp("budget"), emulator.env(), CORTHEX_DAILY_BUDGET_USD="0.00001") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            for path in ("/jobs", "/queue"):
                refused = await client.post(path, json={"requests": MIXED})
                assert refused.status_code == 402, refused.text
                assert refused.json()["detail"].startswith("nothing submitted: the daily budget of $0.00001 (")
            assert (await client.get("/jobs")).json() == []
            assert (await client.get("/costs")).json()["budget_usd"] == 0.00001


async def test_submission_warnings_and_schema_refusals_reach_the_client(client: httpx.AsyncClient) -> None:
    """Issue 11 items 5, 6: a refused temperature is reported, never dropped silently; a schema the
    provider cannot take is refused naming the item and the field."""
    warm = {"custom_id": "w", "model": "o3", "prompt": "안녕", "temperature": 0.2}
    created = await client.post("/jobs", json={"requests": [warm]})
    assert created.status_code == 201, created.text
    (warning,) = created.json()["warnings"]
    assert "'temperature' is not sent to o3" in warning
    array_root = {"custom_id": "a", "model": "gpt-5-mini", "prompt": "안녕", "json_schema": {"type": "array"}}
    refused = await client.post("/jobs", json={"requests": [array_root]})
    assert refused.status_code == 422, refused.text
    assert "json_schema" in refused.text and "root is an object" in refused.text
