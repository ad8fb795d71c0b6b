"""The store's verbs on a real database: exactly-once results, retries, leases, job completion."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text

from corthex.domain.batches import BatchStatus, RemoteRef
from corthex.domain.jobs import JobStatus
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.results import FinalResult, ResultError, ResultStatus, Usage
from corthex.engine.intake import request_row
from corthex.errors import NotFound
from corthex.store.sql import SqlStore


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> SqlStore:
    """The same verbs on both databases (PostgreSQL: a fresh database on the session's server)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    s = await SqlStore.open(url)
    yield s
    await s.close()


def rows(prefix: str, n: int, model: str = "claude-sonnet-4-6") -> list[dict]:
    provider = ProviderName.ANTHROPIC if model.startswith("claude") else ProviderName.OPENAI
    return [request_row(prefix, i, LLMRequest(f"u{i}", model, provider, (Message("user", f"q{i}"),))) for i in range(n)]


async def add(store: SqlStore, job: str, n: int, status: JobStatus = JobStatus.RUNNING) -> None:
    await store.add_job(job, source="api", status=status, label=None, total=n, chunks=[rows(job, n)])


async def test_unknown_job_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound, match="no job with id 'nope'"):
        await store.get_job("nope")


async def test_queued_jobs_wait_for_a_flush(store: SqlStore) -> None:
    await add(store, "jq", 3, JobStatus.QUEUED)
    assert await store.dispatchable(time.time()) == []
    assert (await store.queue_stats())[0] == 3
    assert await store.release_queued() == 3
    assert len(await store.dispatchable(time.time())) == 3


async def test_results_are_recorded_once_even_when_replayed(store: SqlStore) -> None:
    await add(store, "j1", 4)
    ids = [i.request_id for i in await store.dispatchable(time.time())]
    now = time.time()
    assert await store.open_batch("b1", ProviderName.ANTHROPIC, None, ids, now=now, owner="w", lease=60) == 4
    await store.mark_submitted("b1", RemoteRef("msgbatch_1"), now, 1.0)
    finals = [FinalResult(i, ResultStatus.SUCCEEDED, "ok", usage=Usage(1, 1), cost_usd=0.1) for i in ids[:3]]
    assert await store.record_results("b1", finals, [(ids[3], "rate_limit")], now) == 3
    # a crash replays the same chunk: nothing is written twice, the retry is not re-applied
    assert await store.record_results("b1", finals, [(ids[3], "rate_limit")], now) == 0
    assert await store.result_count("j1") == 3
    again = await store.dispatchable(time.time())
    assert [i.request_id for i in again] == [ids[3]]
    assert await store.finish_jobs(now) == []


async def test_a_nul_in_provider_text_is_stored_not_fatal(store: SqlStore) -> None:
    """PostgreSQL text cannot hold NUL; a model's "\\u0000" must not fail the chunk on every retry."""
    await add(store, "jz", 2)
    ids = [i.request_id for i in await store.dispatchable(time.time())]
    now = time.time()
    await store.open_batch("bz", ProviderName.ANTHROPIC, None, ids, now=now, owner="w", lease=60)
    finals = [
        FinalResult(ids[0], ResultStatus.SUCCEEDED, "a\x00b", usage=Usage(1, 1)),
        FinalResult(ids[1], ResultStatus.FAILED, error=ResultError("invalid_request", "bad \x00 byte")),
    ]
    assert await store.record_results("bz", finals, [], now) == 2
    async with store.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT content, error_message FROM results ORDER BY seq"))).all()
    assert [tuple(r) for r in stored] == [("a\ufffdb", None), (None, "bad \ufffd byte")]


async def test_each_retried_request_keeps_its_own_reason(store: SqlStore) -> None:
    await add(store, "jr", 3)
    ids = [i.request_id for i in await store.dispatchable(time.time())]
    now = time.time()
    await store.open_batch("br", ProviderName.ANTHROPIC, None, ids, now=now, owner="w", lease=60)
    reasons = [(ids[0], "rate_limit"), (ids[1], "server_error"), (ids[2], "rate_limit")]
    assert await store.record_results("br", [], reasons, now) == 0
    async with store.engine.connect() as conn:
        kept = dict((await conn.execute(text("SELECT id, last_error FROM requests"))).all())
    assert kept == dict(reasons)


async def test_job_completes_when_every_request_has_a_result(store: SqlStore) -> None:
    await add(store, "j2", 2)
    ids = [i.request_id for i in await store.dispatchable(time.time())]
    now = time.time()
    await store.open_batch("b2", ProviderName.ANTHROPIC, None, ids, now=now, owner="w", lease=60)
    await store.record_results("b2", [FinalResult(i, ResultStatus.FAILED) for i in ids], [], now)
    assert await store.finish_jobs(now) == ["j2"]
    summary = await store.get_job("j2")
    assert summary.status is JobStatus.COMPLETED and summary.failed == 2


async def test_an_open_jobs_estimate_counts_for_its_requests_without_a_result(store: SqlStore) -> None:
    """The daily budget's view of what is still to come (no integer division on PostgreSQL)."""
    await store.add_job(
        "je", source="api", status=JobStatus.RUNNING, label=None, total=4, chunks=[rows("je", 4)], estimate_usd=0.8
    )
    await add(store, "jn", 2)  # submitted without a budget: no estimate
    assert await store.chains.outstanding_estimate() == pytest.approx(0.8)
    ids = [i.request_id for i in await store.dispatchable(time.time()) if i.request_id.startswith("je-")]
    now = time.time()
    await store.open_batch("be", ProviderName.ANTHROPIC, None, ids, now=now, owner="w", lease=60)
    await store.record_results(
        "be", [FinalResult(i, ResultStatus.SUCCEEDED, "ok", cost_usd=0.01) for i in ids[:3]], [], now
    )
    assert await store.chains.outstanding_estimate() == pytest.approx(0.2)
    assert await store.chains.spent_since(now - 1) == pytest.approx(0.03)
    await store.record_results("be", [FinalResult(ids[3], ResultStatus.SUCCEEDED, "ok", cost_usd=0.01)], [], now)
    assert await store.finish_jobs(now) == ["je"]
    assert await store.chains.outstanding_estimate() == 0


async def test_a_second_worker_cannot_take_requests_already_in_a_batch(store: SqlStore) -> None:
    await add(store, "j3", 3)
    ids = [i.request_id for i in await store.dispatchable(time.time())]
    now = time.time()
    assert await store.open_batch("b3", ProviderName.ANTHROPIC, None, ids, now=now, owner="w1", lease=60) == 3
    assert await store.open_batch("b4", ProviderName.ANTHROPIC, None, ids, now=now, owner="w2", lease=60) == 0


async def test_leases_keep_other_workers_off_until_they_expire(store: SqlStore) -> None:
    await add(store, "j4", 1)
    ids = [i.request_id for i in await store.dispatchable(time.time())]
    now = time.time()
    await store.open_batch("b5", ProviderName.ANTHROPIC, None, ids, now=now, owner="w1", lease=60)
    assert await store.due_batches(now) == []  # leased intent: its creator is still at work
    assert not await store.claim("b5", "w2", now, 60)
    assert await store.claim("b5", "w2", now + 61, 60)
    [due] = await store.due_batches(now + 200)
    assert due.status is BatchStatus.INTENT


async def test_failed_creation_requeues_with_backoff_then_gives_up(store: SqlStore) -> None:
    await add(store, "j5", 2)
    now = time.time()
    for attempt in range(1, 4):
        ids = [i.request_id for i in await store.dispatchable(now + 1000 * attempt)]
        assert len(ids) == 2
        await store.open_batch(f"bf{attempt}", ProviderName.ANTHROPIC, None, ids, now=now, owner="w", lease=1)
        given_up = await store.submission_failed(
            f"bf{attempt}", "503", retry_at=now + 1000 * attempt + 5, max_failures=3, now=now
        )
        assert await store.dispatchable(now + 1000 * attempt) == []  # backing off
    assert sorted(given_up) == sorted(ids)
    assert await store.finish_jobs(now) == ["j5"]
    assert (await store.get_job("j5")).failed == 2


async def test_cancel_gives_unsent_requests_a_canceled_result(store: SqlStore) -> None:
    await add(store, "j6", 3, JobStatus.QUEUED)
    done = await store.cancel_job("j6", time.time())
    assert (done.canceled, done.already_done, done.batches) == (3, 0, ())
    await store.finish_jobs(time.time())
    summary = await store.get_job("j6")
    assert summary.status is JobStatus.CANCELED and (summary.canceled, summary.failed) == (3, 0)


async def test_an_embedding_is_kept_as_float32_bytes_and_read_back(store: SqlStore) -> None:
    """Issue 14: a string input's request is known at collection as one vector (request_meta's
    last field), a list input's as a list; both round-trip through the BLOB/bytea column."""
    from corthex.domain.embeddings import unpack_embedding

    def embed(i: int, texts: tuple[str, ...], single: bool) -> LLMRequest:
        return LLMRequest(
            f"e{i}", "text-embedding-3-small", ProviderName.OPENAI, (), embed_input=texts, embed_single=single
        )

    made = [embed(0, ("서울",), True), embed(1, ("서울", "부산"), False)]
    chunk = [request_row("je", i, r) for i, r in enumerate(made)]
    await store.add_job("je", source="api", status=JobStatus.RUNNING, label=None, total=2, chunks=[chunk])
    ids = [i.request_id for i in await store.dispatchable(time.time())]
    now = time.time()
    await store.open_batch("be", ProviderName.OPENAI, "text-embedding-3-small", ids, now=now, owner="w", lease=60)
    meta = await store.request_meta("be")
    assert [meta[i][4] for i in ids] == [True, False]
    vectors = [[0.25, -0.5, 1.0], [[0.5, 0.5, 0.0], [-1.0, 0.125, 0.75]]]
    finals = [FinalResult(i, ResultStatus.SUCCEEDED, embedding=v) for i, v in zip(ids, vectors, strict=True)]
    assert await store.record_results("be", finals, [], now) == 2
    stored = [row async for chunk in store.iter_results("je") for row in chunk]
    assert [len(r["embedding"]) for r in stored] == [4 + 3 * 4, 4 + 6 * 4]
    assert [unpack_embedding(r["embedding"]) for r in stored] == vectors


async def test_request_meta_shares_one_tuple_among_requests_alike(store: SqlStore) -> None:
    """Issue 18: a 100,000-request collection held a metadata tuple per request; requests alike
    (same model, attempts, no schema) now share one, and the ones that differ keep their own."""
    made = [
        LLMRequest(f"u{i}", "claude-sonnet-4-6", ProviderName.ANTHROPIC, (Message("user", f"질문 {i}"),))
        for i in range(6)
    ]
    schema = {"type": "object", "properties": {"답": {"type": "string"}}}
    made.append(
        LLMRequest("s", "claude-sonnet-4-6", ProviderName.ANTHROPIC, (Message("user", "요약"),), json_schema=schema)
    )
    chunk = [request_row("jm", i, r) for i, r in enumerate(made)]
    await store.add_job("jm", source="api", status=JobStatus.RUNNING, label=None, total=7, chunks=[chunk])
    ids = [i.request_id for i in await store.dispatchable(time.time())]
    now = time.time()
    await store.open_batch("bm", ProviderName.ANTHROPIC, "claude-sonnet-4-6", ids, now=now, owner="w", lease=60)
    meta = await store.request_meta("bm")
    plain = [meta[i] for i in ids[:6]]
    assert all(m is plain[0] for m in plain) and plain[0][3] is None
    assert meta[ids[6]][3] == schema
    finals = [FinalResult(i, ResultStatus.SUCCEEDED, content="네, 알겠습니다", usage=Usage(3, 5)) for i in ids]
    assert await store.record_results("bm", finals, [], now) == 7
    assert await store.record_results("bm", finals, [], now) == 0  # replayed: written once
    stored = [row async for part in store.iter_results("jm") for row in part]
    assert sorted(r["custom_id"] for r in stored) == sorted(["s", *(f"u{i}" for i in range(6))])
    assert {(r["content"], r["input_tokens"], r["output_tokens"], r["provider"]) for r in stored} == {
        ("네, 알겠습니다", 3, 5, "anthropic")
    }
