"""Provider-neutral requests, and the parsing of request lines into them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corthex.domain.content import NativeBody, Part, PartType, Reasoning, ToolCall, ToolChoice, ToolSpec
from corthex.domain.registry import ProviderName

__all__ = ["LLMRequest", "Message", "ProviderName"]  # ProviderName lives in the registry


@dataclass(frozen=True, slots=True)
class Message:
    """One turn. `content` is its text; `parts` (when given) its pieces in order, text, images and
    documents; an assistant turn may carry the `tool_calls` it made, and a "tool" turn answers
    the call `tool_call_id` with `content`."""

    role: str  #: "user", "assistant" or "tool"
    content: str
    parts: tuple[Part, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None

    @property
    def text(self) -> str:
        """The turn's text: its text parts joined, or its content."""
        if not self.parts:
            return self.content
        return "\n".join(p.text or "" for p in self.parts if p.type is PartType.TEXT)

    def to_json(self) -> dict[str, Any]:
        content: str | list[dict[str, Any]] = [p.to_json() for p in self.parts] if self.parts else self.content
        data: dict[str, Any] = {"role": self.role, "content": content}
        if self.tool_calls:
            data["tool_calls"] = [c.to_json() for c in self.tool_calls]
        if self.tool_call_id is not None:
            data["tool_call_id"] = self.tool_call_id
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        content = data.get("content")
        parts = tuple(Part.from_json(p) for p in content) if isinstance(content, list) else ()
        return cls(
            data["role"],
            "" if parts else (content or ""),
            parts,
            tuple(ToolCall.from_json(c) for c in data.get("tool_calls") or ()),
            data.get("tool_call_id"),
        )


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
    #: groups requests that share a prompt prefix (OpenAI's `prompt_cache_key`; the others ignore it)
    cache_key: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice | None = None
    reasoning: Reasoning | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None
    #: per provider ("openai", …), fields merged into that provider's body as given
    provider_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: a provider-native line's body, sent as given (then `messages` is empty)
    native: NativeBody | None = None
    #: an embedding request's texts (then `messages` is empty); `embed_single`: given as one
    #: string, so the answer is one vector, not a list of them
    embed_input: tuple[str, ...] | None = None
    embed_single: bool = False
    dimensions: int | None = None  #: the embedding's length, when not the model's default

    @property
    def is_embedding(self) -> bool:
        return self.embed_input is not None

    @property
    def embed_value(self) -> str | list[str]:
        """The input as the user gave it: one string, or a list of them."""
        texts = self.embed_input or ()
        return texts[0] if self.embed_single and texts else list(texts)

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON form kept in the store (and read back by `from_dict`)."""
        data: dict[str, Any] = {
            "custom_id": self.custom_id,
            "model": self.model,
            "provider": self.provider.value,
            "messages": [m.to_json() for m in self.messages],
        }
        optional = {
            "system": self.system,
            "max_output_tokens": self.max_output_tokens,
            "temperature": self.temperature,
            "json_schema": self.json_schema,
            "cache_system": self.cache_system or None,
            "cache_key": self.cache_key,
            "metadata": self.metadata or None,
            "tools": [t.to_json() for t in self.tools] or None,
            "tool_choice": self.tool_choice.to_json() if self.tool_choice else None,
            "reasoning": self.reasoning.to_json() if self.reasoning else None,
            "top_p": self.top_p,
            "stop": list(self.stop) or None,
            "seed": self.seed,
            "provider_options": self.provider_options or None,
            "native": self.native.to_json() if self.native else None,
            "input": self.embed_value if self.embed_input is not None else None,
            "dimensions": self.dimensions,
        }
        data.update({k: v for k, v in optional.items() if v is not None})
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LLMRequest:
        return cls(
            custom_id=data["custom_id"],
            model=data["model"],
            provider=ProviderName(data["provider"]),
            messages=tuple(Message.from_json(m) for m in data["messages"]),
            system=data.get("system"),
            max_output_tokens=data.get("max_output_tokens"),
            temperature=data.get("temperature"),
            json_schema=data.get("json_schema"),
            cache_system=bool(data.get("cache_system", False)),
            cache_key=data.get("cache_key"),
            metadata=data.get("metadata") or {},
            tools=tuple(ToolSpec.from_json(t) for t in data.get("tools") or ()),
            tool_choice=ToolChoice.from_json(data["tool_choice"]) if data.get("tool_choice") else None,
            reasoning=Reasoning.from_json(data["reasoning"]) if data.get("reasoning") else None,
            top_p=data.get("top_p"),
            stop=tuple(data.get("stop") or ()),
            seed=data.get("seed"),
            provider_options=data.get("provider_options") or {},
            native=NativeBody.from_json(data["native"]) if data.get("native") else None,
            embed_input=_embed_input(data.get("input")),
            embed_single=isinstance(data.get("input"), str),
            dimensions=data.get("dimensions"),
        )

    @property
    def last_user_text(self) -> str:
        users = [m.text for m in self.messages if m.role == "user"]
        return users[-1] if users else ""


def _embed_input(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)
