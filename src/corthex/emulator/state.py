"""All emulator state, in-process: files on disk, compact batch records in memory, faults, stats."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

from corthex.emulator.anthropic_batches import AnthropicStore
from corthex.emulator.bedrock_jobs import BedrockStore
from corthex.emulator.config import EmulatorConfig
from corthex.emulator.faults import BatchFaults, Fault, FaultSet
from corthex.emulator.gemini_batches import GeminiStore
from corthex.emulator.lifecycle import Timeline, snapshot
from corthex.emulator.mistral_batches import MistralStore
from corthex.emulator.openai_batches import OpenAIStore
from corthex.emulator.prompt_cache import PromptCache
from corthex.emulator.single_calls import SingleCalls
from corthex.emulator.stats import MAX_RECORDS, Stats


class EmulatorState:
    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if self.config.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="corthex-emulator-")
            self.data_dir = Path(self._tmp.name)
        else:
            self.data_dir = Path(self.config.data_dir)
        self.faults = FaultSet()
        #: OpenAI-compatible servers' own states, by name (emulator/compat.py)
        self.compat: dict[str, EmulatorState] = {}
        self._fresh()

    def _fresh(self) -> None:
        self.counters = Stats()
        self.single_calls = SingleCalls()  #: realtime and flex calls: rate limits, latency, in flight
        self.cache = PromptCache()
        self.openai = OpenAIStore(self.data_dir / "openai")
        self.anthropic = AnthropicStore()
        self.gemini = GeminiStore(self.data_dir / "gemini")
        self.bedrock = BedrockStore()
        self.bedrock_s3: Any = None  #: its boto3 S3 client, made on first use
        #: Vertex AI batch prediction jobs by id (their files live in Cloud Storage)
        self.vertex_jobs: dict[str, Any] = {}
        self.mistral = MistralStore(self.data_dir / "mistral")
        #: every OpenAI call: {method, path, query, json | multipart}, for contract tests
        self.openai_requests: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDS)

    @staticmethod
    def now() -> float:
        return time.time()

    # --- faults --------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        self.faults.add(fault)

    def clear_faults(self) -> None:
        """Remove every fault; batches held by `never_end` are released."""
        self.faults.clear()
        for server in self.compat.values():
            server.clear_faults()

    def held(self, faults: BatchFaults) -> bool:
        return self.faults.is_held(faults)

    # --- inspection and control ----------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        data = self.counters.snapshot()
        data["single_calls"] = self.single_calls.snapshot()
        data["faults"] = {
            "active": [f.to_dict() for f in self.faults.active()],
            "triggered": dict(self.faults.triggered),
        }
        return data

    def batch_times(self) -> list[dict[str, Any]]:
        """When each OpenAI, Anthropic and Gemini batch was created and ended (or will end, held
        batches aside): wall-clock seconds, for a client's timeline (bench/peers.py)."""
        now = self.now()
        timelines: list[tuple[str, str, Timeline]] = [
            *(("openai", b.id, b.timeline) for b in self.openai.batches.values()),
            *(("anthropic", b.id, b.timeline) for b in self.anthropic.batches.values()),
            *(("gemini", b.id, b.timeline) for b in self.gemini.batches.values()),
        ]
        out = []
        for provider, batch_id, tl in timelines:
            snap = snapshot(tl, now, self.held(tl.faults))
            out.append(
                {
                    "provider": provider,
                    "id": batch_id,
                    "requests": tl.n,
                    "created": tl.created,
                    "processed": tl.processed,  # every request done (OpenAI finalizes after)
                    "phase": snap.phase.value,
                    "ended_at": snap.ended_at,
                }
            )
        return out

    def reset(self) -> None:
        """Forget every batch, file, fault and counter (the data dir is emptied)."""
        for server in self.compat.values():
            server.reset()
        self.faults.clear()
        self.faults.triggered.clear()
        for sub in ("openai", "gemini", "mistral"):
            shutil.rmtree(self.data_dir / sub, ignore_errors=True)
        self._fresh()

    def close(self) -> None:
        for server in self.compat.values():
            server.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
