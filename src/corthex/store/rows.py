"""Result rows as the store writes them, text as a column may hold it, and which database
errors mean "exists already" (shared by the store's sections)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError

from corthex.domain.storable import storable
from corthex.redaction import mask_secrets
from corthex.store.tables import requests

CHUNK = 2000  # rows per statement: well under SQLite's bound-parameter limit

RETURNED = (
    requests.c.id,
    requests.c.job_id,
    requests.c.seq,
    requests.c.custom_id,
    requests.c.provider,
    requests.c.model,
    requests.c.attempts,
    requests.c.metadata,
    requests.c.route,
)


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _base_row(r: Row[Any], now: float, batch_id: str | None) -> dict[str, Any]:
    return {
        "request_id": r.id,
        "job_id": r.job_id,
        "seq": r.seq,
        "custom_id": r.custom_id,
        "provider": r.provider,
        "attempts": r.attempts,
        "batch_id": batch_id,
        "created_at": now,
        "content": None,
        "model": r.model,
        "input_tokens": None,
        "output_tokens": None,
        "cached_tokens": None,
        "cache_write_tokens": None,
        "cost_usd": None,
        "realtime_cost_usd": None,
        "error_type": None,
        "error_message": None,
        "finish_reason": None,
        "reasoning_tokens": None,
        "parsed": None,
        "error_code": None,
        "tool_calls": None,
        "metadata": r.metadata,
        "raw": None,
        "embedding": None,
        "cache_saving_usd": None,
    }


def error_text(text: str) -> str:
    """Error text as it may be stored: no secret in it, whatever shape a provider's error page
    gave it (the last defence: adapters mask their errors too), and no NUL."""
    return storable(mask_secrets(text)) or ""


def duplicate(exc: IntegrityError) -> bool:
    """Whether the database refused a row because its key exists already (and not, say, a
    missing reference): PostgreSQL's unique_violation, SQLite's primary key or unique constraint."""
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code is not None:
        return bool(code == "23505")
    return getattr(exc.orig, "sqlite_errorname", "") in ("SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE")


def failed_row(r: Row[Any], kind: str, message: str, now: float, batch_id: str | None) -> dict[str, Any]:
    row = _base_row(r, now, batch_id)
    row.update(status="failed", error_type=kind, error_message=error_text(message))
    return row


def canceled_row(
    r: Row[Any], now: float, batch_id: str | None = None, why: str = "job canceled before submission"
) -> dict[str, Any]:
    row = _base_row(r, now, batch_id)
    row.update(status="canceled", error_type="canceled", error_message=why)
    return row
