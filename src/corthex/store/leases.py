"""Leases on rows (batches, chains, owed deliveries): one worker at a time works on a row, and a
dead worker's row is taken over once its lease has run out. The statements, shared by the store's
verbs; `engine/leases.py` keeps a lease alive while its holder works."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, Update, or_, update
from sqlalchemy.ext.asyncio import AsyncEngine


def take(table: Table, *where: ColumnElement[bool], owner: str, now: float, lease: float, renew: bool = True) -> Update:
    """Lease the matching row to `owner` unless another holds it; with `renew`, `owner`'s own
    lease is extended (that is how a holder keeps it)."""
    free: list[Any] = [table.c.lease_until.is_(None), table.c.lease_until < now]
    if renew:
        free.append(table.c.lease_owner == owner)
    return update(table).where(*where, or_(*free)).values(lease_owner=owner, lease_until=now + lease)


def let_go(table: Table, *where: ColumnElement[bool], owner: str) -> Update:
    """Release `owner`'s lease on the matching row (someone else's is left alone)."""
    return update(table).where(*where, table.c.lease_owner == owner).values(lease_owner=None, lease_until=None)


async def one_row(engine: AsyncEngine, statement: Update) -> bool:
    """Run `statement` in its own transaction: whether it changed exactly one row."""
    async with engine.begin() as conn:
        return (await conn.execute(statement)).rowcount == 1
