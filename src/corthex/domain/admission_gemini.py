"""What Gemini would refuse in a well-formed request (pure; evidence: docs/wire/requests-gemini.md).

Each check returns a `Refusal` naming the field as the request line wrote it, or None; they
pass over requests for other providers.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from corthex.domain.capabilities import capabilities
from corthex.domain.content import Part, PartType
from corthex.domain.requests import LLMRequest, ProviderName

if TYPE_CHECKING:
    from corthex.domain.admission import Refusal

#: the media types Gemini reads as images and as documents (no GIF: not an image type Gemini
#: lists); text/plain documents are read as text
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"})
DOCUMENT_TYPES = frozenset({"application/pdf", "text/plain"})
MB = 1024 * 1024
#: "PDFs are limited to 50MB" when sent inline (file input methods page)
PDF_INLINE_MAX_BYTES = 50 * MB
#: inline data per request: up to 100 MB, base64-encoded (the Jan 2026 file-limits post)
INLINE_MAX_BASE64 = 100 * MB
#: the request fields `provider_options.gemini` may set (GenerateContentRequest, less `model`
#: and `contents`, which the adapter owns)
OPTION_FIELDS = frozenset(
    {
        "generationConfig",
        "safetySettings",
        "systemInstruction",
        "tools",
        "toolConfig",
        "cachedContent",
        "labels",
        "serviceTier",
    }
)


def _refusal(reason: str, field: str) -> Refusal:
    from corthex.domain.admission import Refusal  # admission registers these checks

    return Refusal(reason, field)


def _media_parts(request: LLMRequest) -> Iterator[tuple[str, Part]]:
    for i, message in enumerate(request.messages):
        for j, part in enumerate(message.parts):
            if part.type is not PartType.TEXT:
                yield f"messages[{i}].content[{j}]", part


def media_type(part: Part) -> str | None:
    """The part's media type, or the one its URL's extension names (Gemini needs one for a URL)."""
    if part.media_type:
        return part.media_type
    guessed, _ = mimetypes.guess_type(part.url or "", strict=False)
    return guessed


def refused_media_type(request: LLMRequest) -> Refusal | None:
    """A type Gemini does not take, or a URL part whose type neither `media_type` nor the URL's
    extension tells (Gemini's `fileData` needs a `mimeType`)."""
    if request.provider is not ProviderName.GEMINI:
        return None
    for where, part in _media_parts(request):
        mime = media_type(part)
        if mime is None:
            return _refusal(
                "Gemini needs the media type of a part given by URL: set 'media_type' (the URL's extension "
                "does not tell it)",
                f"{where}.media_type",
            )
        allowed = IMAGE_TYPES if part.type is PartType.IMAGE else DOCUMENT_TYPES
        if mime not in allowed:
            return _refusal(
                f"Gemini does not take {part.type} parts of type {mime!r}: use one of {', '.join(sorted(allowed))}",
                f"{where}.media_type",
            )
    return None


def _decoded_size(data: str) -> int:
    return len(base64.b64decode(_padded(data), altchars=b"-_"))


def oversized_part(request: LLMRequest) -> Refusal | None:
    """A PDF over 50 MB sent inline, or inline data over 100 MB (base64) in one request."""
    if request.provider is not ProviderName.GEMINI:
        return None
    total = 0
    for where, part in _media_parts(request):
        if part.data is None:
            continue
        total += len(part.data)
        if part.media_type == "application/pdf" and _decoded_size(part.data) > PDF_INLINE_MAX_BYTES:
            return _refusal("Gemini takes a PDF of at most 50 MB inline: give it by 'url'", f"{where}.data")
        if total > INLINE_MAX_BASE64:
            return _refusal(
                "Gemini takes at most 100 MB of inline data (base64) in one request: give the larger parts by 'url'",
                f"{where}.data",
            )
    return None


def refused_reasoning(request: LLMRequest) -> Refusal | None:
    """Reasoning on a model that does not think (gemini-2.0-*), or a thinking budget outside the
    2.5 model's range (2.5 Pro cannot turn thinking off)."""
    if request.provider is not ProviderName.GEMINI or request.reasoning is None:
        return None
    caps = capabilities(ProviderName.GEMINI, request.model)
    if not caps.known:
        return None
    if not caps.thinking_levels and caps.thinking_budget is None:
        return _refusal(f"{request.model} does not think: leave 'reasoning' out", "reasoning")
    budget = request.reasoning.budget_tokens
    if caps.thinking_budget is None or budget is None or (budget == 0 and caps.thinking_off):
        return None
    low, high = caps.thinking_budget
    if low <= budget <= high:
        return None
    off = " or 0 (off)" if caps.thinking_off else ""
    return _refusal(
        f"{request.model} takes a thinking budget of {low:,} to {high:,} tokens{off}, not {budget:,}",
        "reasoning.budget_tokens",
    )


def refused_tool_turn(request: LLMRequest) -> Refusal | None:
    """A tool turn answering no call made before it: Gemini names a `functionResponse` after its
    call, so the call must be in the history."""
    if request.provider is not ProviderName.GEMINI:
        return None
    called: set[str] = set()
    for i, message in enumerate(request.messages):
        called |= {c.id for c in message.tool_calls}
        if message.role == "tool" and message.tool_call_id not in called:
            return _refusal(
                f"no earlier assistant turn made the call {message.tool_call_id!r}: Gemini names a tool's "
                "answer after its call",
                f"messages[{i}].tool_call_id",
            )
    return None


def needs_thought_signatures(model: str) -> bool:
    """Gemini 3 models refuse (400) a replayed function call of the current turn without its
    `thoughtSignature`; Gemini 3 Pro Image does not enforce it, 2.5 never did (thought-signatures
    pages: ai.google.dev/gemini-api/docs/thought-signatures, Vertex AI's)."""
    name = model.removeprefix("models/")
    return name.startswith("gemini-3") and "image" not in name


def current_turn_start(roles: list[str]) -> int:
    """Where the current turn begins: after the last user turn that is not a tool's answer (Gemini
    validates signatures from the latest user message with standard content on)."""
    users = [i for i, role in enumerate(roles) if role == "user"]
    return users[-1] + 1 if users else 0


def unsigned_tool_call(request: LLMRequest) -> Refusal | None:
    """On Gemini 3, the first call of each assistant step in the current turn must carry the
    `signature` its result gave (parallel calls: only the first is signed)."""
    if request.provider is not ProviderName.GEMINI or not needs_thought_signatures(request.model):
        return None
    start = current_turn_start([m.role for m in request.messages])
    for i, message in enumerate(request.messages[start:], start=start):
        if message.tool_calls and not message.tool_calls[0].signature:
            return _refusal(
                f"{request.model} needs the 'signature' its result gave with this tool call (Gemini 3 "
                "refuses a replayed function call of the current turn without its thought signature): "
                "copy the result's tool_calls as they are",
                f"messages[{i}].tool_calls[0].signature",
            )
    return None


def refused_option(request: LLMRequest) -> Refusal | None:
    options = request.provider_options.get("gemini") or {}
    if request.provider is not ProviderName.GEMINI or not isinstance(options, dict):
        return None
    for key in options:
        if key not in OPTION_FIELDS:
            allowed = ", ".join(sorted(OPTION_FIELDS))
            return _refusal(
                f"{key!r} is not a Gemini request field we can merge (one of: {allowed})",
                f"provider_options.gemini.{key}",
            )
    return None


CHECKS: tuple[Callable[[LLMRequest], Refusal | None], ...] = (
    refused_media_type,
    oversized_part,
    refused_reasoning,
    refused_tool_turn,
    unsigned_tool_call,
    refused_option,
)


def _padded(data: str) -> str:
    """Base64 with its padding (a line may leave it out; the decoder wants it)."""
    return data + "=" * (-len(data) % 4)
