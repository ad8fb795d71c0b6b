"""A job's deadline over REST (issue 17), against `corthex serve` and the emulator through the
providers' SDKs: with no turnaround seen yet, each provider's prior says a new batch would end
after a two-minute deadline, so the requests are answered on a faster tier (flex where the model
takes it, else realtime), each line says which, and the job says what the deadline cost over
all-batch."""

from __future__ import annotations

import httpx
import orjson
from api_helpers import MIXED, job_done

from corthex.testing import wait_until


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


async def test_a_chain_started_with_a_deadline_shows_it_and_its_predicted_finish_and_its_steps_share_it(
    client: httpx.AsyncClient,
) -> None:
    """A chain's deadline over REST: a day, more than even the priors (no history yet: Gemini's
    says hours) predict for every step, so every step goes by batch; each batch step's job has its share of the deadline as its own, and the chain
    and its steps say when they are predicted to finish while it runs."""
    started = await client.post(
        "/chains", json={"command": "삼성전자 주가 분석 보고서", "deadline": "1d", "deadline_margin": "1h"}
    )
    assert started.status_code == 202, started.text
    chain_id = started.json()["id"]
    running = (await client.get(f"/chains/{chain_id}")).json()
    assert running["deadline"] > running["created_at"] + 86_000 and running["deadline_margin"] == 3600
    if running["status"] == "running":
        assert running["predicted_finish_at"] > running["created_at"]
        assert all(s["predicted_finish_at"] for s in running["ladder"] if s["state"] in ("running", "pending"))
    chain = await wait_until(lambda: _ended(client, chain_id), within=60, what="the chain to end")
    assert chain["status"] == "completed" and chain["predicted_finish_at"] is None
    batch_steps = [s for s in chain["steps"] if s["transport"] == "batch"]
    assert batch_steps and all(running["created_at"] < s["deadline"] <= chain["deadline"] for s in batch_steps)
    for step in batch_steps:
        job = (await client.get(f"/jobs/{step['job_id']}")).json()
        assert job["deadline"] == step["deadline"] and set(job["tiers"]) == {"batch"}  # in time: nothing moved


async def _ended(client: httpx.AsyncClient, chain_id: str) -> dict[str, object] | None:
    chain = (await client.get(f"/chains/{chain_id}")).json()
    return None if chain["status"] == "running" else dict(chain)


async def test_a_chain_deadline_past_or_unreadable_is_refused(client: httpx.AsyncClient) -> None:
    for given in ("내일", "2020-01-01T00:00:00Z"):
        refused = await client.post("/chains", json={"command": "분석", "deadline": given})
        assert refused.status_code == 422, refused.text
        assert "neither a duration" in refused.text or "already passed" in refused.text
