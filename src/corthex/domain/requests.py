"""Provider-neutral requests, and the parsing of request lines into them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any


class ProviderName(enum.StrEnum):
    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"


# Model-name prefixes, longest match wins; an unknown prefix is an error, never a guess
# (the seed sent every unknown model to Anthropic).
_MODEL_PREFIXES: dict[str, ProviderName] = {
    "gpt-": ProviderName.OPENAI,
    "chatgpt-": ProviderName.OPENAI,
    "o1": ProviderName.OPENAI,
    "o3": ProviderName.OPENAI,
    "o4": ProviderName.OPENAI,
    "claude-": ProviderName.ANTHROPIC,
    "gemini-": ProviderName.GEMINI,
    "models/gemini-": ProviderName.GEMINI,
}


@lru_cache(maxsize=1024)
def provider_for_model(model: str) -> ProviderName | None:
    """The provider that serves `model`, or None when no provider is known for it."""
    matches = [p for p in _MODEL_PREFIXES if model.startswith(p)]
    return _MODEL_PREFIXES[max(matches, key=len)] if matches else None


@dataclass(frozen=True, slots=True)
class Message:
    role: str  #: "user" or "assistant"
    content: str


@dataclass(frozen=True, slots=True)
class LLMRequest:
    """One LLM call, as the user gave it, before any provider mapping."""

    custom_id: str
    model: str
    provider: ProviderName
    messages: tuple[Message, ...]
    system: str | None = None
    max_output_tokens: int | None = None
    temperature: float | None = None
    json_schema: dict[str, Any] | None = None
    cache_system: bool = False  #: mark the system prompt cacheable where the provider supports it
    metadata: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON form kept in the store (and read back by `from_dict`)."""
        data: dict[str, Any] = {
            "custom_id": self.custom_id,
            "model": self.model,
            "provider": self.provider.value,
            "messages": [{"role": m.role, "content": m.content} for m in self.messages],
        }
        optional = {
            "system": self.system,
            "max_output_tokens": self.max_output_tokens,
            "temperature": self.temperature,
            "json_schema": self.json_schema,
            "cache_system": self.cache_system or None,
            "metadata": self.metadata or None,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LLMRequest:
        return cls(
            custom_id=data["custom_id"],
            model=data["model"],
            provider=ProviderName(data["provider"]),
            messages=tuple(Message(m["role"], m["content"]) for m in data["messages"]),
            system=data.get("system"),
            max_output_tokens=data.get("max_output_tokens"),
            temperature=data.get("temperature"),
            json_schema=data.get("json_schema"),
            cache_system=bool(data.get("cache_system", False)),
            metadata=data.get("metadata") or {},
        )

    @property
    def last_user_text(self) -> str:
        users = [m.content for m in self.messages if m.role == "user"]
        return users[-1] if users else ""
