"""The store's collection: what is pending in a batch, writing its results (exactly once per
request), sending retries back to the queue, and closing the batch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from corthex.domain.batches import BatchStatus
from corthex.domain.embeddings import estimated_tokens, pack_embedding
from corthex.domain.jobs import JobStatus, RequestState
from corthex.domain.records import RequestMeta
from corthex.domain.results import FinalResult
from corthex.domain.storable import storable
from corthex.store.connection import SqlBase
from corthex.store.rows import RETURNED, chunks, error_text
from corthex.store.tables import jobs, requests

#: Only a body with a schema is read back (to validate answers), or with texts to embed (one
#: string's answer is one vector; the texts give a token estimate when the answer has no count):
#: the key, unescaped, can only be a field name in the canonical body JSON (or a metadata key: the
#: body read back decides).
_SCHEMA_KEY = '"json_schema":'
_ONE_INPUT_KEY = '"input":"'
_INPUTS_KEY = '"input":['


class _SchemaInterner:
    """One dict per distinct schema: a batch's thousands of requests usually share one."""

    def __init__(self) -> None:
        self._seen: dict[bytes, dict[str, Any]] = {}

    def of(self, body: str | None) -> tuple[dict[str, Any] | None, bool, int]:
        """(the body's schema, whether it embeds one string, its texts' estimated tokens)."""
        if body is None:  # most requests: no schema, no texts to embed
            return None, False, 0
        data = orjson.loads(body)
        schema, texts = data.get("json_schema"), data.get("input")
        one_vector, estimate = isinstance(texts, str), estimated_tokens(texts)
        if not isinstance(schema, dict):
            return None, one_vector, estimate
        return self._seen.setdefault(orjson.dumps(schema), schema), one_vector, estimate


class _MetaInterner:
    """One tuple per distinct request metadata: a batch's requests mostly share theirs (same
    model, first attempt, no schema), and a tuple for each was ~10 MB held through a 100,000-row
    collection (issue 14). A schema is keyed by its identity: `_SchemaInterner` shares those."""

    def __init__(self, canceled: str) -> None:
        self._canceled, self._schemas = canceled, _SchemaInterner()
        self._seen: dict[tuple[Any, ...], RequestMeta] = {}

    def of(self, r: Any) -> RequestMeta:
        _, attempts, model, status, body, route = r
        schema, one_vector, estimate = self._schemas.of(body)
        meta: RequestMeta = (attempts, status == self._canceled, model, schema, one_vector, estimate, route is not None)
        key = (attempts, meta[1], model, id(schema), one_vector, estimate, meta[6])
        return self._seen.setdefault(key, meta)


class CollectSection(SqlBase):
    _insert_results: str  #: set by SqlStore: the driver's INSERT of a result row

    async def request_meta(self, batch_id: str) -> dict[str, RequestMeta]:
        read_back = or_(
            requests.c.body.contains(_SCHEMA_KEY, autoescape=True),
            requests.c.body.contains(_ONE_INPUT_KEY, autoescape=True),
            requests.c.body.contains(_INPUTS_KEY, autoescape=True),
        )
        with_schema = case((read_back, requests.c.body), else_=None)
        query = (
            select(
                requests.c.id,
                requests.c.attempts,
                requests.c.model,
                jobs.c.status,
                with_schema.label("schema_body"),
                requests.c.route,
            )
            .join(jobs, jobs.c.id == requests.c.job_id)
            .where(requests.c.batch_id == batch_id, requests.c.state == RequestState.IN_BATCH.value)
        )
        metas = _MetaInterner(JobStatus.CANCELED.value)
        # Streamed, a thousand rows at a time: a batch's bodies with a schema are read here, and
        # buffered whole they were a burst of ~35 MB per 50,000-line batch (issue 14).
        async with self.engine.connect() as conn:
            rows = await conn.stream(query.execution_options(yield_per=1000))
            found: dict[str, RequestMeta] = {}
            async for part in rows.partitions():  # a hop to the driver's thread per part, not per row
                for r in part:
                    found[r[0]] = metas.of(r)
            return found

    async def record_results(
        self,
        batch_id: str,
        finals: Sequence[FinalResult],
        retries: Sequence[tuple[str, str]],
        now: float,
        *,
        fallbacks: Sequence[tuple[str, str, str]] = (),
    ) -> int:
        """Write one chunk in one transaction: final results (once per request, whatever is
        replayed after a crash), requests sent back to the queue (id, reason), and requests sent
        to their route's next provider (id, reason, provider), their attempts counted anew.
        Returns the number of results written."""
        by_id = {f.request_id: f for f in finals}
        written = 0
        async with self.engine.begin() as conn:
            if by_id:
                taken = await conn.execute(
                    update(requests)
                    .where(
                        self._among(list(by_id)),
                        _still_in(batch_id),
                        requests.c.state == RequestState.IN_BATCH.value,
                    )
                    .values(state=RequestState.DONE.value)
                    .returning(*RETURNED)
                )
                rows = [_result_values(r, by_id[r[0]], now, batch_id) for r in taken]
                if rows:
                    await conn.exec_driver_sql(self._insert_results, rows)
                written = len(rows)
            for reason, ids in _by_reason(retries).items():
                why = error_text(reason)
                for chunk in chunks(ids):
                    await conn.execute(
                        update(requests)
                        .where(self._among(chunk), _still_in(batch_id), requests.c.state == RequestState.IN_BATCH.value)
                        .values(state=RequestState.QUEUED.value, batch_id=None, not_before=None, last_error=why)
                    )
            await _send_on(conn, batch_id, fallbacks)
        return written

    async def close_batch(self, batch_id: str, now: float) -> None:
        await self._update_batch(
            batch_id, status=BatchStatus.COLLECTED.value, lease_owner=None, lease_until=None, ended_at=now
        )


async def _send_on(conn: AsyncConnection, batch_id: str, fallbacks: Sequence[tuple[str, str, str]]) -> None:
    """Requests to their route's next provider: queued again there, with all its attempts and
    creation tries (grouped, as the plain retries are: a whole batch may move at once)."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for request_id, reason, provider in fallbacks:
        grouped.setdefault((reason, provider), []).append(request_id)
    for (reason, provider), ids in grouped.items():
        for chunk in chunks(ids):
            await conn.execute(
                update(requests)
                .where(requests.c.id.in_(chunk), _still_in(batch_id), requests.c.state == RequestState.IN_BATCH.value)
                .values(
                    state=RequestState.QUEUED.value,
                    batch_id=None,
                    not_before=None,
                    last_error=error_text(reason),
                    provider=provider,
                    attempts=0,
                    submit_failures=0,
                )
            )


def _still_in(batch_id: str) -> Any:
    """`batch_id = ?` for statements that also match `id IN (…)`: written so that no index on
    batch_id applies, since SQLite (no statistics) would otherwise walk the whole batch through
    `ix_requests_batch` for every chunk instead of looking the ids up by primary key."""
    return func.coalesce(requests.c.batch_id, "") == batch_id


def _by_reason(retries: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Request ids grouped by why they go back to the queue: each keeps its own reason."""
    grouped: dict[str, list[str]] = {}
    for request_id, reason in retries:
        grouped.setdefault(reason, []).append(request_id)
    return grouped


def _result_values(r: Sequence[Any], final: FinalResult, now: float, batch_id: str) -> tuple[Any, ...]:
    """A result row for `SqlStore._insert_results`, in the column order of `results`. The row
    returned (`RETURNED`) is unpacked once: a Row's attributes are looked up by name each time."""
    request_id, job_id, seq, custom_id, provider, model, attempts, metadata, route = r
    usage, error = final.usage, final.error
    if usage is not None:
        tokens: tuple[Any, ...] = (
            usage.input_tokens,
            usage.output_tokens,
            usage.cached_tokens,
            usage.cache_write_tokens,
        )
        reasoning = usage.reasoning_tokens
    else:
        tokens, reasoning = _NO_TOKENS, None
    if error is not None:
        failure: tuple[Any, ...] = (error.type, error_text(error.message))
        code = storable(error.code) if error.code else None
    else:
        failure, code = _NO_ERROR, None
    finish, tier = final.finish_reason, final.tier
    return (
        request_id,
        job_id,
        seq,
        custom_id,
        final.status.value,
        storable(final.content),
        final.model or model,
        provider,
        *tokens,
        final.cost_usd,
        final.realtime_cost_usd,
        *failure,
        attempts,
        batch_id,
        now,
        finish.value if finish is not None else None,
        reasoning,
        storable(orjson.dumps(final.parsed).decode()) if final.has_parsed else None,
        code,
        storable(orjson.dumps([c.to_json() for c in final.tool_calls]).decode()) if final.tool_calls else None,
        metadata,
        storable(orjson.dumps(final.raw).decode()) if final.raw is not None and route else None,
        pack_embedding(final.embedding) if final.embedding is not None else None,
        final.cache_saving_usd,
        tier.value if tier is not None else None,
        final.batch_cost_usd,
    )


_NO_TOKENS: tuple[None, ...] = (None, None, None, None)
_NO_ERROR: tuple[None, ...] = (None, None)
