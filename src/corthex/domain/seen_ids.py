"""The custom_ids of an input seen so far, to refuse a duplicate, in memory that stays small.

A Python set of the ids cost ~100 bytes an id (the str object and its slot), ~10 MB at 100,000
lines and growing with the input. Here an id is a 128-bit digest in an open-addressing table of
three flat integer arrays, with the number of the line (row, item) that gave it first: 24 bytes a
slot, about 40 an id.

The digest is Python's own string hash of the id and of the id with a '#' after it: SipHash, keyed
at random per process, so the two halves are independent 64-bit values, computed in C (a blake2b
digest cost twice the time of the whole check). Two different ids share both with a probability of
about n²/2¹²⁹ (1e-21 at a billion ids): nowhere near anything that happens.
"""

from __future__ import annotations

from array import array


class SeenIds:
    """custom_id -> the number of the first line that gave it."""

    __slots__ = ("_count", "_high", "_low", "_mask", "_number")

    def __init__(self, capacity: int = 1024) -> None:
        self._count = 0
        self._allocate(1 << max(capacity - 1, 1).bit_length())  # a power of two: probes wrap with a mask

    def _allocate(self, size: int) -> None:
        self._high, self._low = array("q", bytes(8 * size)), array("q", bytes(8 * size))
        self._number = array("q", bytes(8 * size))  # the line number + 1; 0 marks a free slot
        self._mask = size - 1

    def __len__(self) -> int:
        return self._count

    def first(self, custom_id: str, number: int) -> int | None:
        """The number of the line that gave `custom_id` before; None if none did, and then
        `number` is remembered as its first."""
        high, low = hash(custom_id + "#"), hash(custom_id)
        numbers, lows, mask = self._number, self._low, self._mask
        slot = low & mask
        while numbers[slot]:  # linear probing, in line: this runs once for every line of the input
            if lows[slot] == low and self._high[slot] == high:
                return numbers[slot] - 1
            slot = (slot + 1) & mask
        self._high[slot], lows[slot], numbers[slot] = high, low, number + 1
        self._count += 1
        if 3 * self._count > 2 * (mask + 1):  # two thirds full: probes would get long
            self._grow()
        return None

    def _grow(self) -> None:
        old = (self._high, self._low, self._number)
        self._allocate(2 * (self._mask + 1))
        numbers, mask = self._number, self._mask
        for high, low, number in zip(*old, strict=True):
            if number:
                slot = low & mask
                while numbers[slot]:
                    slot = (slot + 1) & mask
                self._high[slot], self._low[slot], numbers[slot] = high, low, number
