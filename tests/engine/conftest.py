"""The engine's own logic (dispatch, polling, collection, retries, the queue) on providers held in
memory (`corthex.testing.FakeProvider`): no emulator, no HTTP, milliseconds a test. What each
provider's wire does stays tested through its SDK against the emulator (tests/sdk, tests/integration)."""

from __future__ import annotations

from typing import Any

import pytest

from corthex.domain.registry import BUILTIN_NAMES
from corthex.domain.requests import ProviderName
from corthex.providers.base import Provider
from corthex.testing import FAKE_PACE, FakeProvider


@pytest.fixture
def fakes() -> dict[str, FakeProvider]:
    """One fake per provider, by name; a test shapes them before it submits."""
    return {name.value: FakeProvider(name) for name in BUILTIN_NAMES}


@pytest.fixture
def providers(fakes: dict[str, FakeProvider]) -> dict[ProviderName, Provider]:
    return {ProviderName(name): fake for name, fake in fakes.items()}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """In memory every answer is there at once: poll at the fake's pace."""
    return dict(FAKE_PACE)
