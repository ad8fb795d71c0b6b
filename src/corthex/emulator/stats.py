"""Counters a test can assert on: calls per operation, batches created, files uploaded.

Only identifying metadata is kept (ids, counts, sizes, metadata, display names, first custom_id), never
prompts, so the stats stay small and safe to print.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from corthex.emulator.faults import PROVIDERS

MAX_RECORDS = 10_000


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: dict[str, dict[str, int]] = {p: {} for p in PROVIDERS}
        self.batches: dict[str, deque[dict[str, Any]]] = {p: deque(maxlen=MAX_RECORDS) for p in PROVIDERS}
        self.batches_created: dict[str, int] = dict.fromkeys(PROVIDERS, 0)
        self.files_uploaded: dict[str, int] = dict.fromkeys(PROVIDERS, 0)
        self.create_metadata: dict[str, deque[Any]] = {p: deque(maxlen=MAX_RECORDS) for p in PROVIDERS}

    def count_call(self, provider: str, op: str) -> None:
        with self._lock:
            ops = self.calls[provider]
            ops[op] = ops.get(op, 0) + 1

    def record_create_body(
        self, provider: str, *, metadata: Any = None, display_name: Any = None, first_custom_id: Any = None
    ) -> None:
        """Every create call's identifying metadata, accepted or not."""
        entry = {"metadata": metadata, "display_name": display_name, "first_custom_id": first_custom_id}
        with self._lock:
            self.create_metadata[provider].append(entry)

    def record_batch(
        self,
        provider: str,
        batch_id: str,
        requests: int,
        *,
        metadata: Any = None,
        display_name: Any = None,
        first_custom_id: Any = None,
        wire_bytes: int | None = None,
    ) -> None:
        """A batch that was created: one entry per provider batch, whatever the provider;
        `wire_bytes` is the size of its input as received (file or create body)."""
        entry = {
            "id": batch_id,
            "requests": requests,
            "wire_bytes": wire_bytes,
            "metadata": metadata,
            "display_name": display_name,
            "first_custom_id": first_custom_id,
        }
        with self._lock:
            self.batches_created[provider] += 1
            self.batches[provider].append(entry)

    def record_upload(self, provider: str) -> None:
        with self._lock:
            self.files_uploaded[provider] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                p: {
                    "batches_created": self.batches_created[p],
                    "batches": list(self.batches[p]),
                    "calls": dict(self.calls[p]),
                    "files_uploaded": self.files_uploaded[p],
                    "create_metadata": list(self.create_metadata[p]),
                }
                for p in PROVIDERS
            }
