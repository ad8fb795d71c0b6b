"""Identifiers and timestamps in the providers' formats."""

from __future__ import annotations

import hashlib
import secrets
import string
from datetime import UTC, datetime

import orjson

ALPHABET = string.ascii_letters + string.digits
LOWER = string.ascii_lowercase + string.digits


def new_id(prefix: str, length: int = 24, alphabet: str = ALPHABET) -> str:
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def stable_id(*parts: object, length: int = 24) -> str:
    """A deterministic id from its parts (result ids must not change between downloads)."""
    raw = "\x00".join(str(p) for p in parts).encode()
    return hashlib.blake2b(raw, digest_size=length // 2).hexdigest()


def compact_json(value: object) -> bytes:
    """JSON bytes sized to fit: orjson's own buffers keep ~4 KiB of spare capacity each, which
    adds up when a batch keeps 100,000 small requests."""
    return memoryview(orjson.dumps(value)).tobytes()


def rfc3339(t: float) -> str:
    """`2024-08-20T18:37:24.100435Z`, as Anthropic and Google send."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
