"""Chains over REST and their events on /ws: live, resumed after a reconnect, or as a snapshot."""

from __future__ import annotations

import httpx
from api_helpers import MIXED, job_done, receive, receive_until, send, ws_open

from corthex.emulator import EmulatorServer
from corthex.testing import ServeProcess, wait_until

COMMAND = "Analyse Samsung Electronics' stock outlook for next quarter"


async def test_a_chain_runs_and_its_events_arrive_until_the_report(
    client: httpx.AsyncClient, server: ServeProcess
) -> None:
    async with ws_open(server.ws_url) as ws:
        await send(ws, {"type": "hello"})
        snapshot = await receive(ws)
        assert snapshot["type"] == "snapshot" and "running_chains" in snapshot["data"]

        started = await client.post("/chains", json={"command": COMMAND})
        assert started.status_code == 202, started.text
        chain_id = started.json()["id"]
        assert started.json()["status"] == "running"

        mine = lambda m: m["data"].get("chain_id") == chain_id  # noqa: E731
        events = await receive_until(ws, lambda m: m["type"] == "chain.report" and mine(m))
        events += await receive_until(ws, lambda m: m["type"] == "chain.done" and mine(m))

    seqs = [m["seq"] for m in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert all(set(m) == {"seq", "type", "data", "at"} for m in events)
    types = [m["type"] for m in events if mine(m)]
    assert types[0] == "chain.started" and types.count("chain.report") == 1
    assert {"chain.step", "chain.item"} <= set(types)
    report = next(m for m in events if m["type"] == "chain.report")["data"]
    assert report["report"].startswith("# ") and report["cost_usd"] > 0

    chain = (await client.get(f"/chains/{chain_id}")).json()
    assert chain["status"] == "completed" and chain["report"] == report["report"]
    assert chain["saving_usd"] > 0 and chain["realtime_cost_usd"] > chain["cost_usd"]
    specialists = next(s for s in chain["steps"] if s["step"] == "specialists")
    assert specialists["status"] == "done" and len(specialists["items"]) >= 2
    assert all(i["status"] == "succeeded" and i["content"] and i["model"] for i in specialists["items"])
    assert all(i["agent_name"] and i["department"] for i in specialists["items"])
    ladder = {s["step"]: s["state"] for s in chain["ladder"]}  # each step's state, worked out by the server
    assert ladder["specialists"] == ladder["synthesize"] == ladder["deliver"] == "done" and "summary" not in ladder
    assert chain_id in [c["id"] for c in (await client.get("/chains")).json()]

    archived = (await client.get("/archive")).json()
    entry = next(e for e in archived if e["chain_id"] == chain_id)
    text = await client.get(f"/archive/{entry['name']}")
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/markdown")
    assert report["report"] in text.text


async def test_a_reconnect_with_since_gets_the_missed_events(client: httpx.AsyncClient, server: ServeProcess) -> None:
    async with ws_open(server.ws_url) as ws:
        await send(ws, {"type": "hello"})
        snapshot = await receive(ws)
    since, epoch = snapshot["seq"], snapshot["data"]["epoch"]

    job_id = (await client.post("/jobs", json={"requests": MIXED[:3]})).json()["job_id"]  # while away
    await job_done(client, job_id)

    async with ws_open(server.ws_url) as ws:
        await send(ws, {"since": since, "epoch": epoch})
        missed = await receive_until(ws, lambda m: m["type"] == "job.completed" and m["data"]["job_id"] == job_id)
        rest = await receive_until(ws, lambda m: m["type"] == "synced")
    missed += rest[:-1]
    assert rest[-1]["data"] == {"seq": missed[-1]["seq"], "replayed": len(missed)}  # and it is told so
    assert missed[0]["seq"] == since + 1 and missed[0]["type"] != "snapshot"
    assert [m["seq"] for m in missed] == list(range(since + 1, since + 1 + len(missed)))  # nothing lost
    assert ("job.submitted", job_id) in [(m["type"], m["data"].get("job_id")) for m in missed]
    assert {"batch.submitted", "batch.collected"} <= {m["type"] for m in missed}


async def test_a_resume_from_another_epoch_gets_a_snapshot(server: ServeProcess) -> None:
    async with ws_open(server.ws_url) as ws:
        await send(ws, {"since": 3, "epoch": "an-old-server"})
        first = await receive(ws)
    assert first["type"] == "snapshot"
    assert {"running_chains", "recent_chains", "jobs", "queue", "costs", "epoch"} <= set(first["data"])


async def test_bad_messages_get_an_error_and_the_socket_stays_usable(server: ServeProcess) -> None:
    async with ws_open(server.ws_url) as ws:
        await send(ws, "this is not JSON")
        assert (await receive(ws))["type"] == "snapshot"  # the opening still gives the state
        error = await receive(ws)
        assert error["type"] == "error" and "JSON" in error["data"]["detail"]
        await send(ws, {"type": "launch-missiles"})
        error = await receive(ws)
        assert error["type"] == "error" and "launch-missiles" in error["data"]["detail"]
        await send(ws, {"since": "yesterday"})
        assert (await receive(ws))["type"] == "error"
        await ws.send(b"\x00\x01")
        assert (await receive(ws))["type"] == "error"
        await send(ws, {"type": "ping"})
        assert (await receive(ws))["type"] == "pong"


async def test_chain_bodies_that_are_wrong(client: httpx.AsyncClient) -> None:
    huge = await client.post("/chains", json={"command": "x" * 70_000})
    assert huge.status_code == 413 and "too large" in huge.json()["detail"]
    long = await client.post("/chains", json={"command": "x" * 30_000})
    assert long.status_code == 422 and long.json()["problems"][0]["field"] == "command"
    blank = await client.post("/chains", json={"command": "   "})
    assert blank.status_code == 422 and "empty" in blank.json()["detail"]
    broken = await client.post("/chains", content=b"{command", headers={"content-type": "application/json"})
    assert broken.status_code == 400
    unknown = await client.post("/chains", json={"command": "hi", "brodcast": True})
    assert unknown.status_code == 422 and unknown.json()["problems"][0]["field"] == "brodcast"


async def test_the_server_log_holds_no_key(server: ServeProcess, client: httpx.AsyncClient) -> None:
    await client.get("/jobs")
    log = server.log()
    assert "GET /jobs" in log  # the log is really captured
    for key in ("emulator-openai-key", "emulator-anthropic-key", "emulator-gemini-key"):
        assert key not in log


async def test_a_realtime_broadcast_chain_answers_at_once_and_runs_in_the_background(
    client: httpx.AsyncClient,
) -> None:
    started = await client.post(
        "/chains", json={"command": "Status of every team", "broadcast": True, "realtime": True}
    )
    assert started.status_code == 202, started.text
    assert started.json()["route"] == "broadcast" and len(started.json()["departments"]) > 1

    async def finished() -> dict | None:
        chain = (await client.get(f"/chains/{started.json()['id']}")).json()
        return chain if chain["status"] != "running" else None

    chain = await wait_until(finished, what="the realtime chain done")
    assert chain["status"] == "completed" and chain["realtime"] is True
    assert chain["report"].startswith("# All-department report")
    assert chain["saving_usd"] == 0  # realtime pays the full price


async def test_a_chain_is_canceled_and_run_again_over_rest(
    client: httpx.AsyncClient, server: ServeProcess, emulator: EmulatorServer
) -> None:
    emulator.state.config.speed = 100.0  # its batches run for a minute: the cancel finds them running
    try:
        chain_id = (await client.post("/chains", json={"command": COMMAND})).json()["id"]
        canceled = await client.post(f"/chains/{chain_id}/cancel")
    finally:
        emulator.state.config.speed = 0.05
    assert canceled.status_code == 200, canceled.text
    body = canceled.json()
    assert body["status"] == "canceled" and "Canceled by request" in body["report"]
    assert body["stopped"]["message"].startswith(f"chain {chain_id} canceled: ")
    assert body["stopped"]["jobs"] <= 1 and body["stopped"]["canceled"] >= 0
    again = await client.post(f"/chains/{chain_id}/cancel")
    assert again.status_code == 409 and "already canceled" in again.json()["detail"]
    assert (await client.post("/chains/ch_000000000000/cancel")).status_code == 404

    rerun = await client.post(f"/chains/{chain_id}/rerun")
    assert rerun.status_code == 202, rerun.text
    new = rerun.json()
    assert new["id"] != chain_id and new["rerun_of"] == chain_id and new["status"] == "running"
    listed = {c["id"]: c for c in (await client.get("/chains")).json()}
    assert listed[new["id"]]["rerun_of"] == chain_id and listed[chain_id]["status"] == "canceled"
    assert (await client.post("/chains/ch_000000000000/rerun")).status_code == 404
