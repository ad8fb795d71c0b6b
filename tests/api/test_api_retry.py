"""Issue 16 items 2 and 4 over real HTTP against `corthex serve`: a job's failures sent again as a
new job linked to it (`POST /jobs/{id}/retry`), results filtered by status, `GET /jobs` paged and
strict about its parameters, and a batch shared by several jobs shown as shared."""

from __future__ import annotations

import httpx
import orjson
from api_helpers import job_done

ERROR = "[[emulator:error]]"  # the emulator fails a request whose prompt holds this (docs/emulator.md)
REVIEWS = [
    {"custom_id": "리뷰-1", "model": "gpt-5-mini", "prompt": "이 리뷰를 분류해 주세요: 배송이 빨라요"},
    {"custom_id": "리뷰-2", "model": "claude-haiku-4-5", "prompt": f"이 리뷰를 분류해 주세요: 별로예요 {ERROR}"},
    {"custom_id": "리뷰-3", "model": "gemini-2.5-flash", "prompt": "이 리뷰를 분류해 주세요: 최고예요"},
    {"custom_id": "리뷰-4", "model": "gpt-5-mini", "prompt": f"이 리뷰를 분류해 주세요: 환불 원해요 {ERROR}"},
]


async def results_of(client: httpx.AsyncClient, job_id: str, **params: str) -> list[dict[str, object]]:
    response = await client.get(f"/jobs/{job_id}/results", params=params)
    assert response.status_code == 200, response.text
    return [orjson.loads(line) for line in response.text.splitlines() if line]


async def test_retry_sends_only_the_failed_requests_again_as_a_linked_job(client: httpx.AsyncClient) -> None:
    first = (await client.post("/jobs", json={"requests": REVIEWS})).json()["job_id"]
    assert (await job_done(client, first))["succeeded"] == 2
    failed = await results_of(client, first, status="failed,expired")
    assert [r["custom_id"] for r in failed] == ["리뷰-2", "리뷰-4"]
    assert [r["custom_id"] for r in await results_of(client, first, status="succeeded")] == ["리뷰-1", "리뷰-3"]

    headers = {"Idempotency-Key": f"retry-{first}"}
    retried = await client.post(f"/jobs/{first}/retry", json={"status": ["failed", "expired"]}, headers=headers)
    assert retried.status_code == 201, retried.text
    again = retried.json()
    assert again["retry_of"] == first and again["total"] == 2 and again["id"] != first
    assert again["label"] == f"retry of {first}" and again["replayed"] is False
    twice = await client.post(f"/jobs/{first}/retry", json={"status": ["failed", "expired"]}, headers=headers)
    assert twice.status_code == 200 and twice.json()["id"] == again["id"] and twice.json()["replayed"] is True

    done = await job_done(client, again["id"])
    assert done["retry_of"] == first and done["total"] == 2
    lines = await results_of(client, again["id"])
    assert [r["custom_id"] for r in lines] == ["리뷰-2", "리뷰-4"]  # the same ids, in input order
    assert all(r["status"] == "failed" for r in lines)  # the same bodies: the hook fails them again


async def test_a_retry_with_nothing_to_retry_is_refused(client: httpx.AsyncClient) -> None:
    job_id = (await client.post("/jobs", json={"requests": REVIEWS[:1]})).json()["job_id"]
    await job_done(client, job_id)
    refused = await client.post(f"/jobs/{job_id}/retry")
    assert refused.status_code == 422
    assert refused.json()["detail"] == f"job {job_id} has no failed or expired request: nothing to retry"
    assert (await client.post(f"/jobs/{job_id}/retry", json={"status": ["succeeded"]})).status_code == 422
    assert (await client.post("/jobs/job_000000000000/retry")).status_code == 404


async def test_jobs_are_paged_and_an_unknown_filter_is_refused(client: httpx.AsyncClient) -> None:
    made = [
        (await client.post("/jobs", json={"requests": REVIEWS[:1], "queue": True, "label": f"배치 {i}"})).json()[
            "job_id"
        ]
        for i in range(3)
    ]
    page = await client.get("/jobs", params={"limit": 2, "status": "queued"})
    assert [j["id"] for j in page.json()] == made[::-1][:2]
    link = page.headers["link"]
    assert link.endswith('>; rel="next"') and f"before={made[1]}" in link
    following = await client.get(link[1 : link.index(">")])
    assert [j["id"] for j in following.json()] == [made[0]] and "link" not in following.headers

    misspelt = await client.get("/jobs", params={"stauts": "running"})
    assert misspelt.status_code == 422 and "unknown query parameter 'stauts'" in misspelt.json()["detail"]
    bad = await client.get(f"/jobs/{made[0]}/results", params={"status": "lost"})
    assert bad.status_code == 422 and "'lost'" in bad.json()["detail"]
    assert (await client.get("/jobs", params={"before": "job_000000000000"})).status_code == 404
    await client.delete("/queue")


async def test_a_batch_shared_by_queued_jobs_says_so(client: httpx.AsyncClient) -> None:
    one = [{"custom_id": f"a{i}", "model": "claude-haiku-4-5", "prompt": f"요약 {i}"} for i in range(3)]
    two = [{"custom_id": f"b{i}", "model": "claude-haiku-4-5", "prompt": f"번역 {i}"} for i in range(2)]
    first = (await client.post("/jobs", json={"requests": one, "queue": True})).json()["job_id"]
    second = (await client.post("/jobs", json={"requests": two, "queue": True})).json()["job_id"]
    await client.post("/queue/flush")
    job = await job_done(client, first)
    [batch] = job["batch_list"]
    assert batch["request_count"] == 5 and batch["job_requests"] == 3 and batch["shared_with_jobs"] == 1
    other = await job_done(client, second)
    assert other["batch_list"][0]["job_requests"] == 2 and other["batch_list"][0]["shared_with_jobs"] == 1
