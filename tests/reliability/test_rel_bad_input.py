"""Bad input at every door: each malformed input gets a clear error naming where the problem is,
nothing is stored (no job, no batch, no chain), and the process goes on (a valid submission
works after the whole table).

Doors: a request file (`corthex submit` / `corthex queue add`, also as real CLI processes), the
Python API body, the queue, the org file (loaded directly and when a chain needs it), a chain
command, the REST body (every POST route, including uploads and oversized bodies), the WebSocket
and a Telegram message (unknown chats, malformed commands, non-text updates; the bot runs against
the fake Bot API of tests/telegram).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tg_fakebot import FakeBotApi
from tg_support import CHAT_A, STOCK, STRANGER, TOKEN

from corthex.api.app import create_app
from corthex.config import Settings
from corthex.domain import parsing
from corthex.domain.limits import LIMITS, ProviderLimits
from corthex.engine.engine import Engine
from corthex.errors import CorthexError
from corthex.org import load_org
from corthex.telegram import TelegramService

OK = {"custom_id": "ok", "model": "gpt-5-mini", "prompt": "fine"}


def line(obj: Any) -> bytes:
    return obj if isinstance(obj, bytes) else orjson.dumps(obj)


@dataclass(frozen=True)
class Bad:
    door: str  #: file | api | label | queue | org | org-chain | chain
    name: str
    payload: Any  #: file: list of lines (bytes or objects); api/queue: the body; org: YAML text or bytes; chain: text
    says: str  #: the error names this (the place and the reason)


# A valid line first and last in every file case: a bad line refuses the whole file, whatever
# surrounds it, and the message names the bad line by number.
FILE_CASES = [
    Bad("file", "invalid JSON", [OK, b"{not json"], "line 2: invalid JSON"),
    Bad("file", "truncated object", [OK, b'{"custom_id": "a", "model": '], "line 2: invalid JSON"),
    Bad("file", "not UTF-8", [OK, b"\xff\xfe\x00garbage"], "line 2: not UTF-8 text (byte 0xff at byte 1)"),
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
    Bad(
        "file",
        "NUL in custom_id",
        [OK, {**OK, "custom_id": "a\u0000b"}],
        "line 2, field 'custom_id': 'custom_id' must not contain a NUL character",
    ),
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
        [OK, {**OK, "custom_id": "b", "provider": "nosuchcloud"}],
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
    Bad("api", "NUL in model", [OK, {**OK, "custom_id": "b", "model": "gpt-5-mini\u0000"}], "item 2, field 'model'"),
    Bad("label", "NUL in the label", "batch\u0000one", "the label must not contain a NUL character"),
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
    Bad("org", "not UTF-8", b"chief_of_staff: \xff\xfe\n", "org.yaml: the file is not UTF-8 text"),
    Bad("org", "a directory", None, "cannot read the file"),
    Bad("org-chain", "broken org met by a chain", "departments: {", "org.yaml: line"),
    Bad("org-chain", "org without departments", "chief_of_staff: cos\n", "org.yaml"),
]
CHAIN_CASES = [
    Bad("chain", "empty command", "", "the command is empty"),
    Bad("chain", "blank command", " \n\t ", "the command is empty"),
    Bad("chain", "oversized command", "x" * 20_001, "the limit is 20000"),
    Bad("chain", "NUL in the command", "Plan the \u0000 launch", "the command must not contain a NUL character"),
]
CASES = FILE_CASES + API_CASES + QUEUE_CASES + ORG_CASES + CHAIN_CASES


@contextlib.asynccontextmanager
async def small_limits_engine(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Engine]:
    # a small per-request limit, so "oversized" is cheap to show (the real ones are 190 MB and up)
    small = {
        p: ProviderLimits(lim.max_requests, lim.max_bytes, lim.one_model_per_batch, 4096) for p, lim in LIMITS.items()
    }
    monkeypatch.setattr(parsing, "LIMITS", small)
    settings = Settings(database_url=url, data_dir=tmp_path / "d", archive_dir=tmp_path / "a")
    async with Engine(settings) as e:
        yield e


@pytest.fixture
async def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator_env: None) -> AsyncIterator[Engine]:
    async with small_limits_engine(f"sqlite+aiosqlite:///{tmp_path / 'bad.db'}", tmp_path, monkeypatch) as e:
        yield e


async def stored(engine: Engine) -> dict[str, int]:
    counts = {}
    async with engine._store.engine.connect() as conn:
        for table in ("jobs", "requests", "batches", "chains", "results"):
            counts[table] = (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
    return counts


def write(path: Path, lines: list[Any]) -> Path:
    path.write_bytes(b"".join(line(x) + b"\n" for x in lines))
    return path


async def attempt(engine: Engine, case: Bad, tmp_path: Path) -> str:
    """Feed the input through its door; return the error's text (fail if none was raised)."""
    os.makedirs(tmp_path, exist_ok=True)
    with pytest.raises(CorthexError) as info:
        if case.door == "file":
            await engine.submit_file(write(tmp_path / "in.jsonl", case.payload))
        elif case.door == "api":
            await engine.submit(case.payload)
        elif case.door == "label":
            await engine.submit([OK], label=case.payload)
        elif case.door == "queue":
            if any(isinstance(x, bytes) for x in case.payload):
                await engine.submit_file(write(tmp_path / "q.jsonl", case.payload), queue=True)
            else:
                await engine.submit(case.payload, queue=True)
        elif case.door in ("org", "org-chain"):
            path = tmp_path / "org.yaml"
            if case.payload is None:
                path.mkdir()
            else:
                path.write_bytes(case.payload if isinstance(case.payload, bytes) else case.payload.encode())
            if case.door == "org":
                load_org(path)
            else:  # the org is read when a chain first needs it
                engine.settings.org_path, before = path, engine.settings.org_path
                try:
                    await engine.chains.start("Plan the launch of our new mobile app backend")
                finally:
                    engine.settings.org_path = before
        elif case.door == "chain":
            await engine.chains.start(case.payload)
    return str(info.value)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.door}-{c.name}" for c in CASES])
async def test_bad_input_is_refused_naming_the_place(case: Bad, engine: Engine, tmp_path: Path) -> None:
    before = await stored(engine)
    message = await attempt(engine, case, tmp_path)
    assert case.says in message, message
    assert await stored(engine) == before == dict.fromkeys(before, 0)  # nothing stored at all


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
async def test_the_process_goes_on_after_every_bad_input(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, emulator_env: None
) -> None:
    """The whole table through one engine, on SQLite and on PostgreSQL (whose text columns refuse
    what SQLite keeps, such as NUL): every case refused, none stored, and the engine goes on."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'all.db'}" if db == "sqlite" else request.getfixturevalue("pg_url")
    async with small_limits_engine(url, tmp_path, monkeypatch) as engine:
        for n, case in enumerate(CASES):
            message = await attempt(engine, case, tmp_path / str(n))
            assert case.says in message, (case.name, message)
        assert await stored(engine) == dict.fromkeys(["jobs", "requests", "batches", "chains", "results"], 0)
        report = await engine.submit([OK])
        assert report.total == 1 and (await stored(engine))["requests"] == 1


def test_cli_refuses_a_bad_file_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    """`corthex submit`, `corthex queue add` (the queue door) and a broken org file met by
    `corthex chain`: exit 2, the file and line named, no traceback, nothing stored."""
    path = write(tmp_path / "bad.jsonl", [OK, b"{oops", {"custom_id": "x"}, OK])
    org = tmp_path / "org.yaml"
    org.write_text("departments: [unclosed\n")
    db = tmp_path / "cli.db"
    env = {**os.environ, "CORTHEX_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "COLUMNS": "200"}
    env["CORTHEX_ORG_PATH"] = str(org)
    for command in (["submit", str(path)], ["queue", "add", str(path)]):
        done = subprocess.run(
            [sys.executable, "-m", "corthex", *command],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, (command, done.stderr)
        assert "bad.jsonl line 2: invalid JSON" in done.stderr and "bad.jsonl line 3, field 'model'" in done.stderr
        assert "line 4" in done.stderr and "duplicate" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "corthex", "chain", "Plan the launch"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "org.yaml" in done.stderr and "line 2" in done.stderr and "Traceback" not in done.stderr
    import sqlite3

    with sqlite3.connect(db) as conn:
        assert [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("jobs", "chains")] == [0, 0]


# --- the server's doors: REST bodies (every POST route), oversized bodies, WebSocket messages -----

BAD_JSONL = b'{"custom_id": "a", "model": "gpt-5-mini", "prompt": "x"}\n{oops\n'
REST_CASES = [
    ("/jobs", "not JSON", b"{nope", 400, "malformed JSON"),
    ("/jobs", "no requests field", b'{"queue": false}', 422, "requests"),
    ("/jobs", "requests not a list", b'{"requests": "q1"}', 422, "requests"),
    ("/jobs", "unknown body field", b'{"requests": [], "stream": true}', 422, "stream"),
    (
        "/jobs",
        "an invalid item",
        orjson.dumps({"requests": [OK, {"custom_id": "b", "model": "gpt-5-mini"}]}),
        422,
        "item 2",
    ),
    ("/jobs", "empty list", b'{"requests": []}', 422, "empty"),
    ("/jobs", "a JSON array body", b"[1, 2]", 422, "body"),
    (
        "/queue",
        "queue: an invalid item",
        orjson.dumps({"requests": [OK, {"custom_id": "ok", "model": "x"}]}),
        422,
        "item 2",
    ),
    ("/queue", "queue: not JSON", b"\xff\xfe", 400, "JSON"),
    ("/chains", "chain: blank command", b'{"command": "   "}', 422, "empty"),
    ("/chains", "chain: command too long", orjson.dumps({"command": "x" * 20_001}), 422, "command"),
    ("/chains", "chain: unknown field", b'{"command": "hi", "brodcast": true}', 422, "brodcast"),
    ("/chains", "chain: command not a string", b'{"command": ["a"]}', 422, "command"),
    ("/chains", "chain: NUL in the command", b'{"command": "a\\u0000b"}', 422, "NUL"),
    ("/jobs", "NUL in the label", orjson.dumps({"requests": [OK], "label": "a\u0000"}), 422, "label"),
]
#: (route, name, file content): JSONL uploads refused naming the line
UPLOAD_CASES = [
    ("/jobs/upload", "upload: bad line", BAD_JSONL, "line 2"),
    ("/queue/upload", "queue upload: bad line", BAD_JSONL, "line 2"),
    ("/jobs/upload", "upload: empty file", b"", "empty"),
]
#: (route, size in bytes, declare Content-Length?): 413 before the application reads it all
TOO_LARGE = [
    ("/jobs", 50 * 1024 * 1024 + 1, True),
    ("/queue", 50 * 1024 * 1024 + 1, False),  # streamed (chunked): the counter, not the header, stops it
    ("/chains", 64 * 1024 + 1, False),
    ("/chains", 64 * 1024 + 1, True),
    ("/webhooks/openai", 1024 * 1024 + 1, True),  # the 1 MB default; refused on the header, unread
]
WS_CASES = [
    ("not JSON", "{nope"),
    ("an array", "[1, 2]"),
    ("negative since", '{"since": -1}'),
    ("unknown type", '{"type": "launch-missiles"}'),
    ("since a string", '{"since": "x"}'),
    ("since a boolean", '{"since": true}'),
    ("binary frame", b"\x00\x01"),
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'srv.db'}", data_dir=tmp_path / "d", archive_dir=tmp_path / "a"
    )
    with TestClient(create_app(settings)) as client:
        yield client


def server_counts(client: TestClient) -> tuple[int, int, int]:
    return len(client.get("/jobs").json()), client.get("/queue").json()["requests"], len(client.get("/chains").json())


@pytest.mark.parametrize(("route", "name", "body", "status", "says"), REST_CASES, ids=[c[1] for c in REST_CASES])
def test_rest_body_is_refused_naming_the_place(
    server: TestClient, route: str, name: str, body: bytes, status: int, says: str
) -> None:
    answer = server.post(route, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status, answer.text
    assert says in answer.text
    assert server_counts(server) == (0, 0, 0)
    assert server.get("/healthz").status_code == 200  # the server goes on


@pytest.mark.parametrize(("route", "name", "content", "says"), UPLOAD_CASES, ids=[c[1] for c in UPLOAD_CASES])
def test_rest_upload_is_refused_naming_the_line(
    server: TestClient, route: str, name: str, content: bytes, says: str
) -> None:
    answer = server.post(route, files={"file": ("in.jsonl", content, "application/x-ndjson")})
    assert answer.status_code == 422, answer.text
    assert says in answer.text
    assert server_counts(server) == (0, 0, 0)


@pytest.mark.parametrize(
    ("route", "size", "declared"),
    TOO_LARGE,
    ids=[f"{r}-{s}-{'declared' if d else 'streamed'}" for r, s, d in TOO_LARGE],
)
def test_rest_bodies_over_the_limit_get_413(server: TestClient, route: str, size: int, declared: bool) -> None:
    def chunks() -> Iterator[bytes]:
        left = size
        while left:
            n = min(left, 1024 * 1024)
            left -= n
            yield b" " * n

    content: Any = b" " * size if declared else chunks()
    answer = server.post(route, content=content, headers={"content-type": "application/json"})
    assert answer.status_code == 413, answer.text
    assert "too large" in answer.json()["detail"]
    assert server_counts(server) == (0, 0, 0)
    assert server.get("/healthz").status_code == 200


@pytest.mark.parametrize(("name", "message"), WS_CASES, ids=[c[0] for c in WS_CASES])
def test_websocket_message_gets_an_error_and_the_connection_stays(
    server: TestClient, name: str, message: str | bytes
) -> None:
    with server.websocket_connect("/ws") as ws:
        ws.send_text('{"type": "ping"}')
        replies = [ws.receive_json() for _ in range(2)]  # the opening snapshot, then the pong
        if isinstance(message, bytes):
            ws.send_bytes(message)
        else:
            ws.send_text(message)
        error = ws.receive_json()
        assert error["type"] == "error" and error["data"]["detail"], error
        ws.send_text('{"type": "ping"}')
        assert ws.receive_json()["type"] == "pong"
        assert [r["type"] for r in replies] == ["snapshot", "pong"]
    assert server_counts(server) == (0, 0, 0)


# --- the Telegram door ----------------------------------------------------------------------------

LONG = "가" * 20_001
HELP_MARK = "CORTHEX commands"  #: the first line of the /help answer


@dataclass(frozen=True)
class Tg:
    name: str
    chat: int
    update: dict[str, Any] | str  #: a text message, or a raw update (non-text, edited, ...)
    reply: str | None  #: the reply's text (None: no reply at all)


TELEGRAM_CASES = [
    Tg("stranger /batch", STRANGER, f"/batch {STOCK}", None),
    Tg("stranger /rt", STRANGER, f"/rt {STOCK}", None),
    Tg("stranger Korean batch", STRANGER, f"배치 {STOCK}", None),
    Tg("stranger /status", STRANGER, "/status", None),
    Tg("stranger plain text", STRANGER, "hello", None),
    Tg("empty /batch", CHAT_A, "/batch", "Usage: /batch <command>"),
    Tg("blank /batch", CHAT_A, "/batch    \n ", "Usage: /batch <command>"),
    Tg("empty /broadcast", CHAT_A, "/broadcast", "Usage: /broadcast <command>"),
    Tg("oversized /rt", CHAT_A, f"/rt {LONG}", "The chain was not started: the command is 20001 characters long"),
    Tg("empty Korean batch", CHAT_A, "배치", "Usage: 배치 <command>"),
    Tg("empty Korean realtime", CHAT_A, "실시간   ", "Usage: 실시간 <command>"),
    Tg("unknown command", CHAT_A, "/frobnicate now", "Unknown command. Send /help for the commands."),
    Tg("NUL in a command", CHAT_A, "/batch a\u0000b", "the command must not contain a NUL character"),
    Tg(
        "a sticker (no text)",
        CHAT_A,
        {
            "sticker": {
                "file_id": "x",
                "file_unique_id": "y",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        },
        None,
    ),
    Tg("an edited /batch", CHAT_A, {"edited": f"/batch {STOCK}"}, None),
    Tg(
        "stranger sticker",
        STRANGER,
        {
            "sticker": {
                "file_id": "x",
                "file_unique_id": "y",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        },
        None,
    ),
]


def answered(sent: list[Any], case: Tg) -> bool:
    """/help is answered, and so is the case if it expects an answer (a chain's start runs in
    the background: its refusal may come after the /help answer)."""
    helped = any(HELP_MARK in s.visible for s in sent)
    return helped and (case.reply is None or any(case.reply in s.visible for s in sent))


def inject(fake: FakeBotApi, case: Tg) -> None:
    """Queue the case's update at the fake Bot API."""
    if isinstance(case.update, str):
        fake.message(case.chat, case.update)
        return
    fake.message(case.chat, "placeholder")  # a well-formed update, then reshaped as the case says
    with fake._lock:
        update = fake._updates[-1]
        message = update["message"]
        del message["text"]
        if "edited" in case.update:
            message["text"] = case.update["edited"]
            message["edit_date"] = message["date"]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": 6}]
            update["edited_message"] = update.pop("message")
        else:
            message.update(case.update)


async def test_telegram_bad_messages_get_a_clear_reply_or_none_and_the_bot_keeps_going(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, emulator_env: None
) -> None:
    """Each case is sent alone, followed by /help from the allowed chat: updates are handled in
    order, so once /help is answered the case was too, and its reply (if any) came just before."""
    fake = FakeBotApi(TOKEN).start()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'tg.db'}",
        data_dir=tmp_path / "d",
        archive_dir=tmp_path / "a",
        telegram_bot_token=TOKEN,
        telegram_chat_ids=str(CHAT_A),
        telegram_base_url=fake.base_url,
        language="en",  # plain text starts a chain now: tests/telegram/test_tg_korean.py
    )
    try:
        async with Engine(settings) as engine:
            service = TelegramService(engine, settings)
            await service.start()
            try:
                for case in TELEGRAM_CASES:
                    before = len(fake.sent)
                    inject(fake, case)
                    fake.message(CHAT_A, "/help")
                    await fake.wait_for(
                        lambda b=before, c=case: answered(fake.sent[b:], c),
                        10,
                        f"the answers after {case.name}",
                    )
                    answers = [s for s in fake.sent[before:] if HELP_MARK not in s.visible]
                    if case.reply is None:
                        assert answers == [], (case.name, answers)
                    else:
                        assert len(answers) == 1 and answers[0].chat_id == case.chat, (case.name, answers)
                        assert case.reply in answers[0].visible, (case.name, answers[0].visible)
                    assert fake.to(STRANGER) == [] and await engine._store.chains.list() == [], case.name
                # the bot goes on: a valid command starts exactly one chain
                fake.message(CHAT_A, f"/batch {STOCK}")
                await fake.wait_for(lambda: any("started (batch)" in t for t in fake.texts(CHAT_A)), 10, "a start")
                [chain] = await engine._store.chains.list()
                assert chain.command == STOCK and chain.origin_ref == str(CHAT_A)
            finally:
                await service.stop()
    finally:
        fake.stop()
    strangers = [c for c in TELEGRAM_CASES if c.chat == STRANGER]
    ignored = [r.getMessage() for r in caplog.records if "not in TELEGRAM_CHAT_IDS" in r.getMessage()]
    assert len(ignored) == len(strangers) and all(f"chat {STRANGER}" in m for m in ignored)


def test_the_table_has_every_door_and_enough_cases() -> None:
    assert {c.door for c in CASES} == {"file", "api", "label", "queue", "org", "org-chain", "chain"}
    for door in (REST_CASES, UPLOAD_CASES, TOO_LARGE, WS_CASES, TELEGRAM_CASES):  # the other doors' own tables
        assert door
    total = len(CASES) + len(REST_CASES) + len(UPLOAD_CASES) + len(TOO_LARGE) + len(WS_CASES) + len(TELEGRAM_CASES)
    assert total >= 30, total
