"""Bad input at every door: each malformed input gets a clear error naming where the problem is,
nothing is stored (no job, no batch, no chain), and the process goes on (a valid submission
works after the whole table).

Doors: a request file (`corthex submit` / `queue add`), the Python API body, the queue, the org
file, a chain command, the REST body and the WebSocket (the server's own code). The Telegram
message door is the Telegram package's: see TELEGRAM_DOOR below.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from corthex.config import Settings
from corthex.domain import parsing
from corthex.domain.limits import LIMITS, ProviderLimits
from corthex.engine.engine import Engine
from corthex.errors import CorthexError
from corthex.org import load_org

OK = {"custom_id": "ok", "model": "gpt-5-mini", "prompt": "fine"}


def line(obj: Any) -> bytes:
    return obj if isinstance(obj, bytes) else orjson.dumps(obj)


@dataclass(frozen=True)
class Bad:
    door: str  #: file | api | queue | org | chain
    name: str
    payload: Any  #: file: list of lines (bytes or objects); api/queue: the body; org: YAML text; chain: text
    says: str  #: the error names this (the place and the reason)


# A valid line first and last in every file case: a bad line refuses the whole file, whatever
# surrounds it, and the message names the bad line by number.
FILE_CASES = [
    Bad("file", "invalid JSON", [OK, b"{not json"], "line 2: invalid JSON"),
    Bad("file", "truncated object", [OK, b'{"custom_id": "a", "model": '], "line 2: invalid JSON"),
    Bad("file", "not UTF-8", [OK, b"\xff\xfe\x00garbage"], "line 2: invalid JSON"),
    Bad("file", "array line", [OK, [1, 2]], "line 2: a request must be a JSON object"),
    Bad("file", "string line", [OK, "hello"], "line 2: a request must be a JSON object"),
    Bad("file", "null line", [OK, None], "line 2: a request must be a JSON object"),
    Bad("file", "too deep", [OK, b"[" * 2000 + b"]" * 2000], "line 2: invalid JSON"),
    Bad(
        "file", "missing custom_id", [OK, {"model": "gpt-5-mini", "prompt": "x"}], "line 2, field 'custom_id': missing"
    ),
    Bad(
        "file",
        "empty custom_id",
        [OK, {**OK, "custom_id": " "}],
        "line 2, field 'custom_id': 'custom_id' must be a non-empty string",
    ),
    Bad("file", "numeric custom_id", [OK, {**OK, "custom_id": 7}], "field 'custom_id'"),
    Bad("file", "duplicate custom_id", [OK, OK], "line 2, field 'custom_id': duplicate custom_id 'ok'"),
    Bad(
        "file",
        "unknown model",
        [OK, {**OK, "custom_id": "b", "model": "llama-9"}],
        "line 2, field 'model': no provider serves model 'llama-9'",
    ),
    Bad(
        "file",
        "unknown provider",
        [OK, {**OK, "custom_id": "b", "provider": "mistral"}],
        "line 2, field 'provider': unknown provider",
    ),
    Bad(
        "file", "unknown field", [OK, {**OK, "custom_id": "b", "stream": True}], "line 2, field 'stream': unknown field"
    ),
    Bad(
        "file",
        "prompt and messages",
        [OK, {**OK, "custom_id": "b", "messages": [{"role": "user", "content": "x"}]}],
        "line 2, field 'prompt'",
    ),
    Bad(
        "file", "no prompt", [OK, {"custom_id": "b", "model": "gpt-5-mini"}], "line 2, field 'prompt': give exactly one"
    ),
    Bad("file", "empty prompt", [OK, {**OK, "custom_id": "b", "prompt": ""}], "line 2, field 'prompt'"),
    Bad(
        "file",
        "messages not a list",
        [OK, {"custom_id": "b", "model": "gpt-5-mini", "messages": "hi"}],
        "line 2, field 'messages'",
    ),
    Bad(
        "file",
        "system role in messages",
        [OK, {"custom_id": "b", "model": "gpt-5-mini", "messages": [{"role": "system", "content": "x"}]}],
        "line 2, field 'messages[0]'",
    ),
    Bad(
        "file",
        "negative max tokens",
        [OK, {**OK, "custom_id": "b", "max_output_tokens": -5}],
        "line 2, field 'max_output_tokens'",
    ),
    Bad("file", "boolean max tokens", [OK, {**OK, "custom_id": "b", "max_tokens": True}], "line 2, field 'max_tokens'"),
    Bad(
        "file",
        "temperature out of range",
        [OK, {**OK, "custom_id": "b", "temperature": 7}],
        "line 2, field 'temperature'",
    ),
    Bad(
        "file",
        "temperature a string",
        [OK, {**OK, "custom_id": "b", "temperature": "hot"}],
        "line 2, field 'temperature'",
    ),
    Bad(
        "file", "metadata not strings", [OK, {**OK, "custom_id": "b", "metadata": {"n": 1}}], "line 2, field 'metadata'"
    ),
    Bad(
        "file",
        "schema not an object",
        [OK, {**OK, "custom_id": "b", "json_schema": "yes"}],
        "line 2, field 'json_schema'",
    ),
    Bad("file", "oversized request", [OK, {**OK, "custom_id": "b", "prompt": "x" * 5000}], "line 2: request is"),
    Bad("file", "empty file", [], "the input is empty"),
    Bad("file", "blank lines only", [b"", b"   ", b"\t"], "the input is empty"),
]
API_CASES = [
    Bad("api", "a dict, not a list", {"custom_id": "a"}, "input: the requests must be a list"),
    Bad("api", "null body", None, "input: the requests must be a list"),
    Bad("api", "a string", "custom_id", "input: the requests must be a list"),
    Bad("api", "empty list", [], "the input is empty"),
    Bad("api", "a number item", [OK, 3], "item 2: a request must be a JSON object"),
    Bad("api", "not JSON-serializable", [OK, {**OK, "custom_id": "b", "prompt": {1, 2}}], "item 2: not a JSON value"),
    Bad("api", "huge integer", [OK, {**OK, "custom_id": "b", "max_output_tokens": 2**70}], "item 2"),
    Bad("api", "duplicate ids", [OK, {**OK, "prompt": "again"}], "item 2, field 'custom_id': duplicate"),
]
QUEUE_CASES = [
    Bad("queue", "bad line queued", [OK, b"{oops"], "line 2: invalid JSON"),
    Bad("queue", "bad item queued", [OK, {"custom_id": "b"}], "item 2, field 'model': missing"),
]
ORG_CASES = [
    Bad("org", "not YAML", "departments: [unclosed\n  - x: {", "org.yaml"),
    Bad("org", "a list", "- a\n- b\n", "must be a mapping"),
    Bad("org", "empty", "", "org.yaml"),
    Bad("org", "tabs and garbage", "\t\x00\x01: :", "org.yaml"),
    Bad("org", "duplicate keys", "classifier_model: a\nclassifier_model: b\n", "duplicate key 'classifier_model'"),
    Bad("org", "unknown model", "classifier_model: llama-9\ndepartments: []\n", "org.yaml"),
]
CHAIN_CASES = [
    Bad("chain", "empty command", "", "the command is empty"),
    Bad("chain", "blank command", " \n\t ", "the command is empty"),
    Bad("chain", "oversized command", "x" * 20_001, "the limit is 20000"),
]
CASES = FILE_CASES + API_CASES + QUEUE_CASES + ORG_CASES + CHAIN_CASES


@pytest.fixture
async def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Engine]:
    # a small per-request limit, so "oversized" is cheap to show (the real ones are 190 MB and up)
    small = {
        p: ProviderLimits(lim.max_requests, lim.max_bytes, lim.one_model_per_batch, 4096) for p, lim in LIMITS.items()
    }
    monkeypatch.setattr(parsing, "LIMITS", small)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bad.db'}", data_dir=tmp_path / "d", archive_dir=tmp_path / "a"
    )
    async with Engine(settings) as e:
        yield e


async def stored(engine: Engine) -> dict[str, int]:
    counts = {}
    async with engine.store.engine.connect() as conn:
        for table in ("jobs", "requests", "batches", "chains", "results"):
            counts[table] = (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
    return counts


def write(path: Path, lines: list[Any]) -> Path:
    path.write_bytes(b"".join(line(x) + b"\n" for x in lines))
    return path


async def attempt(engine: Engine, case: Bad, tmp_path: Path) -> str:
    """Feed the input through its door; return the error's text (fail if none was raised)."""
    with pytest.raises(CorthexError) as info:
        if case.door == "file":
            await engine.submit_file(write(tmp_path / "in.jsonl", case.payload))
        elif case.door == "api":
            await engine.submit(case.payload)
        elif case.door == "queue":
            if any(isinstance(x, bytes) for x in case.payload):
                await engine.submit_file(write(tmp_path / "q.jsonl", case.payload), queue=True)
            else:
                await engine.submit(case.payload, queue=True)
        elif case.door == "org":
            path = tmp_path / "org.yaml"
            path.write_text(case.payload)
            load_org(path)
        elif case.door == "chain":
            await engine.chains.start(case.payload)
    return str(info.value)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.door}-{c.name}" for c in CASES])
async def test_bad_input_is_refused_naming_the_place(case: Bad, engine: Engine, tmp_path: Path) -> None:
    before = await stored(engine)
    message = await attempt(engine, case, tmp_path)
    assert case.says in message, message
    assert await stored(engine) == before == dict.fromkeys(before, 0)  # nothing stored at all


async def test_the_process_goes_on_after_every_bad_input(engine: Engine, tmp_path: Path) -> None:
    for case in CASES:
        await attempt(engine, case, tmp_path)
    assert await stored(engine) == dict.fromkeys(["jobs", "requests", "batches", "chains", "results"], 0)
    report = await engine.submit([OK])
    assert report.total == 1 and (await stored(engine))["requests"] == 1


def test_cli_refuses_a_bad_file_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.jsonl", [OK, b"{oops", {"custom_id": "x"}, OK])
    env = {**os.environ, "CORTHEX_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "corthex", "submit", str(path)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "bad.jsonl line 2: invalid JSON" in done.stderr and "bad.jsonl line 3, field 'model'" in done.stderr
    assert "line 4" in done.stderr and "duplicate" in done.stderr and "Traceback" not in done.stderr


# --- the server's doors: REST body and WebSocket message ------------------------------------------

REST_CASES = [
    ("not JSON", b"{nope", 400, "malformed JSON"),
    ("no requests field", b'{"queue": false}', 422, "requests"),
    ("requests not a list", b'{"requests": "q1"}', 422, "requests"),
    ("unknown body field", b'{"requests": [], "stream": true}', 422, "stream"),
    ("an invalid item", orjson.dumps({"requests": [OK, {"custom_id": "b", "model": "gpt-5-mini"}]}), 422, "item 2"),
    ("empty list", b'{"requests": []}', 422, "empty"),
]
WS_CASES = [b"{nope", b"[1, 2]", b'{"since": -1}', b'{"type": "launch-missiles"}', b'{"since": "x"}']


@pytest.fixture
def server(tmp_path: Path) -> Any:
    app_module = pytest.importorskip("corthex.api.app", reason="the REST server is not in this tree")
    from fastapi.testclient import TestClient

    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'srv.db'}", data_dir=tmp_path / "d", archive_dir=tmp_path / "a"
    )
    with TestClient(app_module.create_app(settings)) as client:
        yield client


def server_counts(client: Any) -> int:
    return len(client.get("/jobs").json())


@pytest.mark.parametrize(("name", "body", "status", "says"), REST_CASES, ids=[c[0] for c in REST_CASES])
def test_rest_body_is_refused_naming_the_place(server: Any, name: str, body: bytes, status: int, says: str) -> None:
    answer = server.post("/jobs", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status, answer.text
    assert says in answer.text
    assert server_counts(server) == 0
    assert server.get("/healthz").status_code == 200  # the server goes on


@pytest.mark.parametrize("message", WS_CASES, ids=[m.decode() for m in WS_CASES])
def test_websocket_message_gets_an_error_and_the_connection_stays(server: Any, message: bytes) -> None:
    with server.websocket_connect("/ws") as ws:
        ws.send_text('{"type": "ping"}')
        replies = [ws.receive_json() for _ in range(2)]  # the opening snapshot, then the pong
        ws.send_text(message.decode())
        error = ws.receive_json()
        assert error["type"] == "error" and error["data"]["detail"], error
        ws.send_text('{"type": "ping"}')
        assert ws.receive_json()["type"] == "pong"
        assert {r["type"] for r in replies} <= {"snapshot", "pong", "error"}
    assert server_counts(server) == 0


# --- the Telegram door ----------------------------------------------------------------------------

#: Malformed Telegram messages (an empty /batch, a 20,001-character command, a sticker instead of
#: text, a chat not in TELEGRAM_CHAT_IDS) are answered by the Telegram package's handlers
#: (src/corthex/telegram/handlers.py) and tested with its fake Bot API in tests/telegram. This
#: is the place to add them to the table once that package settles.
TELEGRAM_DOOR: list[Callable[..., Any]] = []
