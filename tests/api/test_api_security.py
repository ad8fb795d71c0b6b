"""The API token, the signed OpenAI webhook, and keys that never leave the server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Iterator

import httpx
import orjson
import pytest
from api_helpers import MIXED, WEBHOOK_SECRET, job_done, receive, send, ws_open
from websockets.exceptions import InvalidStatus

from corthex.emulator import EmulatorServer
from corthex.testing import ServeProcess, wait_until

TOKEN = "test-api-token-" + uuid.uuid4().hex
KEYS = ("emulator-openai-key", "emulator-anthropic-key", "emulator-gemini-key", TOKEN)


@pytest.fixture(scope="module")
def secured(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """A server with a token, a webhook secret, and polls so slow that only a webhook (or a
    30 s wait) makes it look at a batch again."""
    slow = {"CORTHEX_POLL_INITIAL": "30", "CORTHEX_POLL_MAX": "30", "CORTHEX_IDLE_RECHECK": "30"}
    extra = {"CORTHEX_API_TOKEN": TOKEN, "OPENAI_WEBHOOK_SECRET": WEBHOOK_SECRET, **slow}
    with ServeProcess(tmp_path_factory.mktemp("secured"), emulator.env(), **extra) as server:
        yield server


def signed(body: bytes, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> dict[str, str]:
    """Standard Webhooks headers: v1 = base64(HMAC-SHA256(key, "id.timestamp.body"))."""
    msg_id, stamp = "msg_" + uuid.uuid4().hex, str(at if at is not None else int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
        "content-type": "application/json",
    }


def batch_event(remote_id: str, kind: str = "batch.completed") -> bytes:
    return orjson.dumps(
        {
            "id": "evt_" + uuid.uuid4().hex,
            "object": "event",
            "created_at": int(time.time()),
            "type": kind,
            "data": {"id": remote_id},
        }
    )


async def test_every_call_needs_the_token_but_healthz(secured: ServeProcess) -> None:
    async with httpx.AsyncClient(base_url=secured.url) as anonymous:
        for path in ("/jobs", "/queue", "/batches", "/chains", "/org", "/costs", "/archive", "/metrics"):
            refused = await anonymous.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"] == "Bearer"
        assert (await anonymous.post("/chains", json={"command": "hi"})).status_code == 401
        wrong = await anonymous.get("/jobs", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401
        assert (await anonymous.get("/healthz")).status_code == 200
        assert (await anonymous.get("/")).status_code == 200  # the page that asks for the token
        assert (await anonymous.get("/i18n")).status_code == 200  # in the words of that page
    async with httpx.AsyncClient(base_url=secured.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        for path in ("/jobs", "/queue", "/chains", "/costs", "/metrics"):
            assert (await client.get(path)).status_code == 200, path


async def test_the_websocket_needs_the_token(secured: ServeProcess) -> None:
    for url in (secured.ws_url, secured.ws_url + "?token=wrong"):
        with pytest.raises(InvalidStatus) as refused:
            async with ws_open(url):
                pass
        assert refused.value.response.status_code == 403
    async with ws_open(f"{secured.ws_url}?token={TOKEN}") as ws:
        await send(ws, {"type": "hello"})
        assert (await receive(ws))["type"] == "snapshot"
    async with ws_open(secured.ws_url, additional_headers={"Authorization": f"Bearer {TOKEN}"}) as ws:
        await send(ws, {"type": "ping"})
        assert (await receive(ws))["type"] == "snapshot"


async def test_a_signed_webhook_wakes_the_poller_and_a_bad_one_is_refused(secured: ServeProcess) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=secured.url, headers=headers, timeout=30) as client:
        job_id = (await client.post("/jobs", json={"requests": [MIXED[0]]})).json()["job_id"]

        async def submitted() -> dict | None:
            batches = (await client.get("/batches", params={"job_id": job_id})).json()
            return batches[0] if batches and batches[0]["remote_id"] else None

        batch = await wait_until(submitted, what="the OpenAI batch created")
        assert batch["provider"] == "openai" and batch["next_poll_at"] > time.time() + 20  # not polled for 30 s

        body = batch_event(batch["remote_id"])
        for bad in (
            {**signed(body), "webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()},
            signed(body, secret="whsec_" + base64.b64encode(b"another secret").decode()),
            signed(body, at=int(time.time()) - 3600),  # a replay from an hour ago
            {"content-type": "application/json"},  # no signature at all
        ):
            refused = await client.post("/webhooks/openai", content=body, headers=bad)
            assert refused.status_code == 400 and refused.json()["detail"] == "invalid webhook signature"
        assert (await client.get(f"/jobs/{job_id}")).json()["completed_at"] is None

        delivery = signed(body)
        async with httpx.AsyncClient(base_url=secured.url) as openai:  # OpenAI sends no API token
            woken = await openai.post("/webhooks/openai", content=body, headers=delivery)
            replayed = await openai.post("/webhooks/openai", content=body, headers=delivery)  # within its window
        assert woken.status_code == 200 and woken.json()["handled"] is True
        assert replayed.status_code == 200 and replayed.json() == {
            "handled": False,
            "type": "batch.completed",
            "replayed": True,
        }
        started = time.monotonic()
        job = await job_done(client, job_id, limit_s=15)
        assert job["succeeded"] == 1 and time.monotonic() - started < 15


async def test_keys_and_the_token_never_appear_in_answers_events_or_logs(secured: ServeProcess) -> None:
    bodies: list[str] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=secured.url, headers=headers, timeout=30) as client:
        job_id = (await client.post("/jobs", json={"requests": MIXED[:3]})).json()["job_id"]
        calls = [
            ("GET", "/jobs"),
            ("GET", f"/jobs/{job_id}"),
            ("GET", f"/jobs/{job_id}/results"),
            ("GET", "/batches"),
            ("GET", "/queue"),
            ("GET", "/chains"),
            ("GET", "/org"),
            ("GET", "/costs"),
            ("GET", "/metrics"),
            ("GET", "/healthz"),
            ("GET", "/openapi.json"),
            ("GET", "/jobs/nope"),
            ("GET", "/app.js"),
        ]
        for method, path in calls:
            bodies.append((await client.request(method, path)).text)
        bodies.append((await client.post("/jobs", json={"requests": [{"model": "x"}]})).text)
        bodies.append((await client.post("/chains", json={"command": "Quarterly review of every department"})).text)
    async with ws_open(f"{secured.ws_url}?token={TOKEN}") as ws:
        await send(ws, {"since": 0})
        for _ in range(5):
            bodies.append(orjson.dumps(await receive(ws)).decode())
    log = secured.log()
    assert "/ws?token=" in log and "GET /jobs" in log  # the access log is there, token masked
    for key in KEYS:
        assert not [b for b in bodies if key in b], key
        assert key not in log, key
