"""Deterministic prompt caching: the first request with a cacheable prefix writes the cache,
later ones with the same prefix read it (per provider, for the emulator's lifetime)."""

from __future__ import annotations

import threading

from corthex.emulator.answers import Ask, tokens


class PromptCache:
    """Which cacheable prompt prefixes were seen: the first use writes the cache, later ones read."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def lookup(self, provider: str, ask: Ask, min_tokens: int = 0) -> tuple[int, int]:
        """(cache-creation tokens, cache-read tokens) for this request."""
        if ask.cache_key is None or not ask.cached_words:
            return 0, 0
        size = tokens(ask.cached_words)
        if size < min_tokens:
            return 0, 0
        key = (provider, ask.cache_key)
        with self._lock:
            if key in self._seen:
                return 0, size
            self._seen.add(key)
        return size, 0
