"""Deterministic prompt caching: the first request with a cacheable prefix writes the cache,
later ones with the same prefix read it (per provider), within the cache's lifetime.

A batch's requests are processed concurrently at the provider: a write is readable only by
requests processed after it (docs/providers.md, "Prompt caching in batches"). `lookup_batch`
models that: the batch runs in waves of `concurrency` requests; a wave reads what earlier waves
and earlier batches wrote, and what it writes is readable by other batches once the batch is
processed (`ready_at`)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from corthex.emulator.answers import Ask, tokens

#: a cache's lifetime by its `ttl` (Anthropic: "5m", the default, or "1h"); refreshed on every read
TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}
#: what OpenAI's and Gemini's implicit caches keep a prefix, at least (both say "minutes")
DEFAULT_TTL = 300.0


@dataclass(slots=True)
class _Entry:
    readable_from: float
    expires: float


@dataclass(frozen=True, slots=True)
class Use:
    """One request's use of the cache in a batch: its index, its ask, its cache lifetime."""

    index: int
    ask: Ask
    ttl: float = DEFAULT_TTL


class PromptCache:
    """Which cacheable prompt prefixes are cached now: a miss writes, a hit reads (and refreshes)."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()

    def lookup(
        self, provider: str, ask: Ask, min_tokens: int = 0, *, now: float = 0.0, ttl: float = DEFAULT_TTL
    ) -> tuple[int, int]:
        """(cache-creation tokens, cache-read tokens) for one request processed at `now` (a
        realtime call, or a row rendered in order): its write is readable at once."""
        size = self._size(ask, min_tokens)
        if not size or ask.cache_key is None:
            return 0, 0
        key = (provider, ask.cache_key)
        with self._lock:
            if self._readable(key, now, ttl):
                return 0, size
            self._entries[key] = _Entry(now, now + ttl)
        return size, 0

    def lookup_batch(
        self, provider: str, uses: Sequence[Use], *, now: float, ready_at: float, concurrency: int = 1
    ) -> dict[int, tuple[int, int]]:
        """(write, read) tokens per index for a batch created at `now`, processed by `ready_at`,
        `concurrency` requests at a time (1: each sees every request before it)."""
        out: dict[int, tuple[int, int]] = {}
        written: dict[tuple[str, str], int] = {}  # key -> the wave that wrote it
        with self._lock:
            for position, use in enumerate(uses):
                size = self._size(use.ask, 0)
                if not size or use.ask.cache_key is None:
                    continue
                key, wave = (provider, use.ask.cache_key), position // max(concurrency, 1)
                if key in written:  # written by this batch: read by its later waves only
                    out[use.index] = (0, size) if written[key] < wave else (size, 0)
                elif self._readable(key, now, use.ttl):
                    out[use.index] = (0, size)
                else:
                    out[use.index] = (size, 0)
                    written[key] = wave
                    self._entries[key] = _Entry(ready_at, ready_at + use.ttl)
        return out

    def _readable(self, key: tuple[str, str], now: float, ttl: float) -> bool:
        entry = self._entries.get(key)
        if entry is None or not entry.readable_from <= now < entry.expires:
            return False
        entry.expires = max(entry.expires, now + ttl)  # a read refreshes the lifetime
        return True

    @staticmethod
    def _size(ask: Ask, min_tokens: int) -> int:
        if ask.cache_key is None or not ask.cached_words:
            return 0
        size = tokens(ask.cached_words)
        return size if size >= min_tokens else 0
