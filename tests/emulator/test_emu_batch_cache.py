"""The emulator's Anthropic prompt cache in batches (issue 17): a batch's requests run
`concurrency` at a time, so a write is read only by later waves of the batch and by batches
processed after it, within the cache's lifetime (refreshed by each read)."""

from __future__ import annotations

from corthex.emulator.answers import Ask
from corthex.emulator.prompt_cache import TTL_SECONDS, PromptCache, Use

ASK = Ask(model="claude-sonnet-4-6", prompt="질문", input_text_words=2100, cached_words=2000, cache_key="계약-검토")
HOUR = TTL_SECONDS["1h"]


def uses(n: int, ttl: float = HOUR) -> list[Use]:
    return [Use(i, ASK, ttl) for i in range(n)]


def test_a_concurrent_batch_writes_for_every_request_and_reads_none() -> None:
    cache = PromptCache()
    out = cache.lookup_batch("anthropic", uses(5), now=0, ready_at=10, concurrency=100)
    assert all(write and not read for write, read in out.values())


def test_later_waves_of_a_batch_read_what_the_first_wrote() -> None:
    out = PromptCache().lookup_batch("anthropic", uses(6), now=0, ready_at=10, concurrency=2)
    assert [bool(out[i][1]) for i in range(6)] == [False, False, True, True, True, True]


def test_a_write_is_read_by_batches_processed_after_it_within_its_lifetime() -> None:
    cache = PromptCache()
    cache.lookup_batch("anthropic", uses(1), now=0, ready_at=100, concurrency=1)
    during = cache.lookup_batch("anthropic", uses(3), now=50, ready_at=150, concurrency=10)
    assert all(write and not read for write, read in during.values())  # before the primer was processed
    after = cache.lookup_batch("anthropic", uses(3), now=200, ready_at=300, concurrency=10)
    assert all(read and not write for write, read in after.values())
    refreshed = cache.lookup_batch("anthropic", uses(1), now=200 + HOUR - 1, ready_at=0, concurrency=1)
    assert refreshed[0][1]  # each read restarts the hour
    expired = cache.lookup_batch("anthropic", uses(1), now=200 + 3 * HOUR, ready_at=0, concurrency=1)
    assert expired[0][0] and not expired[0][1]


def test_a_five_minute_cache_is_gone_before_a_long_batch_reaches_it() -> None:
    cache = PromptCache()
    cache.lookup_batch("anthropic", uses(1, TTL_SECONDS["5m"]), now=0, ready_at=10, concurrency=1)
    late = cache.lookup_batch("anthropic", uses(1, TTL_SECONDS["5m"]), now=10 + 301, ready_at=400, concurrency=1)
    assert late[0][0] and not late[0][1]


def test_a_batch_that_ends_at_once_still_reads_none_of_its_own_concurrent_writes() -> None:
    # speed 0: the batch is processed the moment it starts; its requests still ran together
    out = PromptCache().lookup_batch("anthropic", uses(4), now=5, ready_at=5, concurrency=100)
    assert all(write and not read for write, read in out.values())
