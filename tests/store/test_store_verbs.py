"""The store speaks in verbs (issue 13): what a poll found is recorded by name, giving up is a
field of the batch (stored as it always was), and a duplicate is a domain error."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from corthex.domain.batches import BatchStatus, RemoteRef, RemoteState, RemoteStatus
from corthex.domain.jobs import JobStatus
from corthex.domain.requests import LLMRequest, Message, ProviderName
from corthex.domain.results import ResultStatus
from corthex.engine.intake import request_row
from corthex.errors import AlreadyExists, KeyTaken
from corthex.store.base import Store
from corthex.store.sql import SqlStore


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStore]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    s = await SqlStore.open(url)
    yield s
    await s.close()


def rows(prefix: str, n: int) -> list[dict[str, object]]:
    asks = [
        LLMRequest(f"질문{i}", "claude-sonnet-4-6", ProviderName.ANTHROPIC, (Message("user", f"보고서 {i}"),))
        for i in range(n)
    ]
    return [request_row(prefix, i, r) for i, r in enumerate(asks)]


async def submitted(store: Store, job: str, batch: str, n: int = 2) -> float:
    """A running job of `n` requests in one batch, created at the provider; returns the time."""
    await store.add_job(job, source="api", status=JobStatus.RUNNING, label="한글", total=n, chunks=[rows(job, n)])
    ids = [i.request_id for i in await store.dispatchable(time.time())]
    now = time.time()
    await store.open_batch(batch, ProviderName.ANTHROPIC, None, ids, now=now, owner="w", lease=60)
    await store.mark_submitted(batch, RemoteRef("msgbatch_1"), now, 1.0)
    return now


async def test_a_job_id_taken_is_already_exists_not_a_database_error(store: SqlStore) -> None:
    """A chain step submitted by two workers at once: the second learns it exists, in domain terms."""
    await store.add_job("jd", source="chain", status=JobStatus.RUNNING, label=None, total=1, chunks=[rows("jd", 1)])
    with pytest.raises(AlreadyExists, match="'jd' exists already"):
        await store.add_job("jd", source="chain", status=JobStatus.RUNNING, label=None, total=1, chunks=[rows("x", 1)])
    await store.add_job(
        "jk", source="api", status=JobStatus.RUNNING, label=None, total=0, chunks=[], idempotency_key="k"
    )
    with pytest.raises(KeyTaken):
        await store.add_job(
            "jk2", source="api", status=JobStatus.RUNNING, label=None, total=0, chunks=[], idempotency_key="k"
        )
    assert (await store.get_job("jd")).total == 1  # the first stands, nothing of the second was recorded


async def test_progress_and_failed_looks_are_recorded_by_name(store: SqlStore) -> None:
    now = await submitted(store, "jp", "bp")
    running = RemoteStatus(RemoteState.RUNNING, "in_progress", total=2, done=1)
    await store.record_progress("bp", running, interval=5.0, now=now)
    batch = await store.get_batch("bp")
    assert (batch.raw_status, batch.done_count, batch.poll_count, batch.poll_interval) == ("in_progress", 1, 1, 5.0)
    assert batch.next_poll_at == pytest.approx(now + 5.0)
    await store.back_off("bp", 2, retry_at=now + 9, error="503 서버 오류", polled=True)
    batch = await store.get_batch("bp")
    assert (batch.poll_failures, batch.poll_count, batch.error) == (2, 2, "503 서버 오류")
    assert batch.next_poll_at == pytest.approx(now + 9) and not batch.given_up
    await store.back_off("bp", 3, retry_at=now + 20)  # a failed download: no poll, the error kept
    batch = await store.get_batch("bp")
    assert (batch.poll_failures, batch.poll_count, batch.error) == (3, 2, "503 서버 오류")
    before = time.time()
    await store.poll_soon("bp")
    assert before - 1 <= (await store.get_batch("bp")).next_poll_at <= time.time() + 1


async def test_an_ended_batch_is_due_for_collection(store: SqlStore) -> None:
    now = await submitted(store, "je", "be")
    failed = RemoteStatus(RemoteState.FAILED, "failed", done=0, failed=2, error="검증 실패", retryable=True)
    await store.mark_ended("be", failed, now)
    batch = await store.get_batch("be")
    assert batch.status is BatchStatus.ENDED and (batch.error, batch.error_retryable) == ("검증 실패", True)
    assert (batch.poll_count, batch.next_poll_at, batch.ended_at) == (1, now, now)
    assert [b.id for b in await store.claim_due(now + 61, "w2", 60)] == ["be"]  # once the creator's lease is over


async def test_a_batch_given_up_says_so_and_is_stored_as_before(store: SqlStore) -> None:
    now = await submitted(store, "jg", "bg")
    await store.give_up("bg", "still open after 24h", now)
    batch = await store.get_batch("bg")
    assert batch.given_up and batch.status is BatchStatus.ENDED and batch.ended_as == ResultStatus.EXPIRED.value
    assert batch.error == "given up: still open after 24h"
    # the column holds what earlier versions wrote and read: a mixed-version fleet agrees
    async with store.engine.connect() as conn:
        assert (await conn.execute(text("SELECT raw_status FROM batches WHERE id = 'bg'"))).scalar() == "given_up"
    assert (await store.get_batch("bg")).to_dict()["given_up"] is True


async def test_a_failed_lookup_lets_go_of_the_intent_until_its_backoff_ends(store: SqlStore) -> None:
    await store.add_job("jl", source="api", status=JobStatus.RUNNING, label=None, total=1, chunks=[rows("jl", 1)])
    ids = [i.request_id for i in await store.dispatchable(time.time())]
    now = time.time()
    await store.open_batch("bl", ProviderName.ANTHROPIC, None, ids, now=now, owner="w", lease=60)
    await store.lookup_failed("bl", "someone else", 1, error="timeout", retry_at=now + 30)
    assert not await store.claim("bl", "w2", now, 60)  # not the holder's: the lease stands
    await store.lookup_failed("bl", "w", 2, error="timeout", retry_at=now + 30)
    batch = await store.get_batch("bl")
    assert (batch.status, batch.poll_failures, batch.error) == (BatchStatus.INTENT, 2, "timeout")
    assert await store.claim_due(now + 10, "w2", 60) == []
    assert [b.id for b in await store.claim_due(now + 31, "w2", 60)] == ["bl"]
