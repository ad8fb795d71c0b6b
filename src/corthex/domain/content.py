"""What a request carries beyond plain text, in one provider-neutral form (issue 14): content
parts (text, images, documents), tools and the calls a model makes to them, reasoning settings.

Each adapter maps these to its provider's shape in `providers/wire/`; the canonical JSON form
(`to_json`/`from_json`) is what the store keeps and what a request line says.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class PartType(enum.StrEnum):
    TEXT = "text"
    IMAGE = "image"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class Part:
    """One piece of a message: text, or an image or a document given by `url` or by base64 `data`
    with its `media_type`. `cache` marks the end of a cacheable prefix (Anthropic's cache_control)."""

    type: PartType
    text: str | None = None
    url: str | None = None
    data: str | None = None
    media_type: str | None = None
    cache: bool = False

    def to_json(self) -> dict[str, Any]:
        values = {"text": self.text, "url": self.url, "data": self.data, "media_type": self.media_type}
        return {"type": self.type.value, **{k: v for k, v in values.items() if v is not None}} | (
            {"cache": True} if self.cache else {}
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Part:
        return cls(
            PartType(data["type"]),
            data.get("text"),
            data.get("url"),
            data.get("data"),
            data.get("media_type"),
            bool(data.get("cache", False)),
        )


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the model may call: its `parameters` are a JSON schema (an object). `cache` marks
    the end of a cacheable prefix at this tool (Anthropic's cache_control on the tool definition;
    tools come first in the prefix, so every tool up to this one is in it)."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    cache: bool = False

    def declaration(self) -> dict[str, Any]:
        """The function as every provider declares it: name, description, parameters."""
        described = {"description": self.description} if self.description else {}
        return {"name": self.name, **described, "parameters": self.parameters}

    def to_json(self) -> dict[str, Any]:
        return self.declaration() | ({"cache": True} if self.cache else {})

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ToolSpec:
        parameters = data.get("parameters") or {"type": "object"}
        return cls(data["name"], data.get("description"), parameters, bool(data.get("cache", False)))


class ToolMode(enum.StrEnum):
    AUTO = "auto"  #: the model decides
    NONE = "none"  #: no tool call
    REQUIRED = "required"  #: at least one tool call (any tool)
    TOOL = "tool"  #: a call of the one tool named


@dataclass(frozen=True, slots=True)
class ToolChoice:
    mode: ToolMode
    name: str | None = None  #: the tool, for `ToolMode.TOOL`

    def to_json(self) -> str | dict[str, str]:
        return {"name": self.name or ""} if self.mode is ToolMode.TOOL else self.mode.value

    @classmethod
    def from_json(cls, data: str | dict[str, str]) -> ToolChoice:
        return cls(ToolMode.TOOL, data["name"]) if isinstance(data, dict) else cls(ToolMode(data))


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call the model made: `arguments` parsed from its JSON (or kept as the raw text in
    `{"_raw": …}` when the model wrote invalid JSON, so nothing is lost). `signature` is Gemini's
    `thoughtSignature` on the call's part, opaque (base64): a replayed call must carry it back on
    Gemini 3 (docs/wire/requests-gemini.md); the other providers ignore it."""

    id: str
    name: str
    arguments: dict[str, Any]
    signature: str | None = None

    def to_json(self) -> dict[str, Any]:
        signed = {"signature": self.signature} if self.signature else {}
        return {"id": self.id, "name": self.name, "arguments": self.arguments, **signed}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ToolCall:
        return cls(data["id"], data["name"], data.get("arguments") or {}, data.get("signature"))


class Effort(enum.StrEnum):
    MINIMAL = "minimal"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Reasoning:
    """How hard a reasoning model thinks: an `effort` level, or a `budget_tokens` of thinking (or both:
    each provider takes the form it knows, the other derived from it)."""

    effort: Effort | None = None
    budget_tokens: int | None = None

    def to_json(self) -> dict[str, Any]:
        values = {"effort": self.effort.value if self.effort else None, "budget_tokens": self.budget_tokens}
        return {k: v for k, v in values.items() if v is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reasoning:
        effort = data.get("effort")
        return cls(Effort(effort) if effort else None, data.get("budget_tokens"))


@dataclass(frozen=True, slots=True)
class NativeBody:
    """The body of a native line as it goes out: OpenAI's `body` for `url`, Anthropic's
    `params`, Gemini's `request` (a GenerateContentRequest, REST JSON)."""

    body: dict[str, Any]
    url: str | None = None  #: OpenAI only: the endpoint the line names

    def to_json(self) -> dict[str, Any]:
        return {"body": self.body, **({"url": self.url} if self.url else {})}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NativeBody:
        return cls(data["body"], data.get("url"))
