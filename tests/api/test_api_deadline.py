"""A job's deadline over REST (issue 17), against `corthex serve` and the emulator through the
providers' SDKs: with no turnaround seen yet, each provider's prior says a new batch would end
after a two-minute deadline, so the requests are answered on a faster tier (flex where the model
takes it, else realtime), each line says which, and the job says what the deadline cost over
all-batch."""

from __future__ import annotations

import httpx
import orjson
from api_helpers import MIXED, job_done


async def test_a_tight_deadline_is_met_in_realtime(client: httpx.AsyncClient) -> None:
    created = await client.post("/jobs", json={"requests": MIXED, "deadline": "2m", "deadline_margin": 10})
    assert created.status_code == 201, created.text
    job_id = created.json()["job_id"]
    job = await job_done(client, job_id)
    assert job["status"] == "completed" and job["succeeded"] == len(MIXED)
    assert job["batch_list"] == []  # no batch was created: none could end in time
    # gpt-5-mini takes OpenAI's flex processing (at the batch rates); Claude and Gemini go realtime
    assert {tier: t["results"] for tier, t in job["tiers"].items()} == {"flex": 3, "realtime": 6}
    assert job["deadline"] > job["created_at"] + 100
    assert job["deadline_cost_usd"] > 0
    assert job["tiers"]["realtime"]["cost_usd"] > job["tiers"]["realtime"]["batch_cost_usd"]
    async with client.stream("GET", f"/jobs/{job_id}/results") as response:
        lines = [orjson.loads(line) async for line in response.aiter_lines() if line]
    assert {line["custom_id"]: line["tier"] for line in lines} == {
        r["custom_id"]: "flex" if r["model"] == "gpt-5-mini" else "realtime" for r in MIXED
    }
    assert sorted(line["custom_id"] for line in lines) == sorted(r["custom_id"] for r in MIXED)


async def test_a_deadline_past_or_unreadable_is_refused(client: httpx.AsyncClient) -> None:
    for given in ("내일", "2020-01-01T00:00:00Z", 1.0):
        refused = await client.post("/jobs", json={"requests": MIXED, "deadline": given})
        assert refused.status_code == 422, refused.text
        detail = refused.json()["detail"]
        assert isinstance(detail, str) and ("is neither a duration" in detail or "already passed" in detail), detail
