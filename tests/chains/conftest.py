"""Chains end to end: the real engine, the official SDKs, the emulator, a fresh SQLite file
(tests/conftest.py); a failed request is not retried."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"max_attempts": 1}
