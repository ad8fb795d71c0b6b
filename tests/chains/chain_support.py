"""Driving a chain step by step in tests."""

from __future__ import annotations

import time

from corthex.domain.chain import ChainStatus, Step
from corthex.emulator import EmulatorServer
from corthex.engine.engine import Engine
from corthex.store.chains import ChainRow


async def run_until(engine: Engine, chain_id: str, *, step: Step | None = None, limit_s: float = 60) -> ChainRow:
    """Work until the chain reaches `step` (or ends, when step is None)."""
    deadline = time.monotonic() + limit_s
    while True:
        chain = await engine._store.chains.get(chain_id)
        if chain.status is not ChainStatus.RUNNING or (step is not None and chain.step is step):
            return chain
        assert time.monotonic() < deadline, f"chain stuck at {chain.step}"
        await engine.step()
        await engine._sleep_until_due()


def batch_keys(emulator: EmulatorServer) -> list[str]:
    """Every batch the emulator created, by the key the engine gave it."""
    stats = emulator.state.stats()
    keys = []
    for provider in ("openai", "anthropic", "gemini"):
        for batch in stats[provider]["batches"]:
            keys.append(
                str(
                    batch.get("metadata", {}).get("corthex_key")
                    or batch.get("display_name")
                    or batch.get("first_custom_id")
                    or batch["id"]
                )
            )
    return keys


def total_batches(emulator: EmulatorServer) -> int:
    stats = emulator.state.stats()
    return sum(stats[p]["batches_created"] for p in ("openai", "anthropic", "gemini"))
