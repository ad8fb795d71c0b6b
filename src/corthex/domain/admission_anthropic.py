"""What Anthropic's Messages API would refuse in a well-formed request (pure; the mapping and its
evidence: docs/wire/requests-anthropic.md).

Each check returns the first refusal it finds, with the field as the request line wrote it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator

from corthex.domain.admission import Refusal
from corthex.domain.capabilities import for_request, speaks_anthropic
from corthex.domain.content import Part, PartType, ToolMode
from corthex.domain.requests import LLMRequest

#: An image's base64 text may be at most 5 MiB: the API measures the base64 string, not the image
#: (Claude Code's constants/apiLimits.ts, API_IMAGE_MAX_BASE64_SIZE "Source: api/api/schemas/messages/blocks/").
IMAGE_MAX_BASE64 = 5 * 1024 * 1024
#: Images per request: 100 for the models with a 200k-token context window (600 for the others;
#: the lower figure for all, since the table does not know each model's window). Vision guide.
IMAGES_MAX = 100
#: PDFs: 32 MB for the whole request payload (pdf-support "Both limits are on the entire request payload").
REQUEST_MAX_BYTES = 32 * 1024 * 1024
#: Blocks with `cache_control` in one request: "A maximum of 4 blocks with cache_control may be
#: provided. Found 5." (the API's 400; prompt-caching guide: up to 4 cache breakpoints).
CACHE_BREAKPOINTS_MAX = 4
#: The least thinking budget (thinking_config_enabled_param.py: "Must be ≥1024 and less than max_tokens").
THINKING_MIN_BUDGET = 1_024

_Where = tuple[str, Part]


def _parts(request: LLMRequest) -> Iterator[_Where]:
    for i, message in enumerate(request.messages):
        for j, part in enumerate(message.parts):
            yield f"messages[{i}].content[{j}]", part


def _only_anthropic(check: Callable[[LLMRequest], Refusal | None]) -> Callable[[LLMRequest], Refusal | None]:
    def checked(request: LLMRequest) -> Refusal | None:
        return check(request) if speaks_anthropic(request.provider) else None

    checked.__name__ = check.__name__
    return checked


@_only_anthropic
def unsent_sampling(request: LLMRequest) -> Refusal | None:
    """SDK 2.16.0's Messages API has no `top_p` and no `seed` (types/message_create_params.py)."""
    for name in ("top_p", "seed"):
        if getattr(request, name) is not None:
            return Refusal(
                f"Anthropic's Messages API has no {name!r} field (anthropic SDK 2.16.0): "
                f"leave it out for {request.model}",
                name,
            )
    return None


@_only_anthropic
def refused_part(request: LLMRequest) -> Refusal | None:
    """Sources Anthropic does not take: a document by URL that is not a PDF, a gs:// address, a
    plain-text document that is not UTF-8."""
    for where, part in _parts(request):
        found = _part_refusal(where, part)
        if found is not None:
            return found
    return None


def _part_refusal(where: str, part: Part) -> Refusal | None:
    if part.url is not None and not part.url.startswith(("https://", "http://")):
        return Refusal("Anthropic fetches only http(s) addresses: send the data (base64) instead", f"{where}.url")
    if part.type is PartType.DOCUMENT and part.url is not None and part.media_type not in (None, "application/pdf"):
        return Refusal("Anthropic takes a document by URL only as a PDF: send a text document as data", f"{where}.url")
    if part.media_type == "text/plain" and part.data is not None and not _utf8(part.data):
        return Refusal("a text/plain document must be UTF-8 text (base64-encoded)", f"{where}.data")
    return None


def _utf8(data: str) -> bool:
    try:
        base64.b64decode(data).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return True


@_only_anthropic
def media_over_limits(request: LLMRequest) -> Refusal | None:
    """One image over 5 MiB of base64, more than 100 images, or more than 32 MB of data in all."""
    images = total = 0
    for where, part in _parts(request):
        size = len(part.data or "")
        total += size
        if part.type is PartType.IMAGE:
            images += 1
            if size > IMAGE_MAX_BASE64:
                return Refusal(
                    f"an image may be at most 5 MB of base64 for Anthropic, not {size:,} bytes", f"{where}.data"
                )
            if images > IMAGES_MAX:
                return Refusal(f"Anthropic takes at most {IMAGES_MAX} images in a request", where)
        if total > REQUEST_MAX_BYTES:
            return Refusal("Anthropic takes at most 32 MB of images and documents in a request", where)
    return None


@_only_anthropic
def refused_reasoning(request: LLMRequest) -> Refusal | None:
    """Thinking on a model without it, a budget under 1,024 or not under max_tokens, thinking with
    a forced tool choice (only auto and none go with thinking)."""
    reasoning = request.reasoning
    if reasoning is None:
        return None
    caps = for_request(request)
    if caps.known and not caps.thinks:
        return Refusal(f"{request.model} does not take reasoning settings (no extended thinking)", "reasoning")
    budget = reasoning.budget_tokens
    if budget is not None and budget < THINKING_MIN_BUDGET:
        return Refusal(
            f"Anthropic's thinking budget is at least 1,024 tokens, not {budget:,}", "reasoning.budget_tokens"
        )
    cap = request.max_output_tokens or (caps.max_output_tokens if caps.known else None)
    if budget is not None and cap is not None and budget >= cap:
        return Refusal(
            f"the thinking budget ({budget:,}) must be under max_output_tokens ({cap:,}): thinking counts in it",
            "reasoning.budget_tokens",
        )
    choice = request.tool_choice
    if choice is not None and choice.mode in (ToolMode.REQUIRED, ToolMode.TOOL):
        return Refusal("with thinking Anthropic takes only tool_choice 'auto' or 'none'", "tool_choice")
    return None


def _cache_markers(request: LLMRequest) -> Iterator[str]:
    """The fields of the request's `cache` markers, in Anthropic's prefix order: tools, system, messages."""
    yield from (f"tools[{i}].cache" for i, tool in enumerate(request.tools) if tool.cache)
    if request.cache_system and request.system:
        yield "cache_system"
    yield from (f"{where}.cache" for where, part in _parts(request) if part.cache)


@_only_anthropic
def too_many_cache_markers(request: LLMRequest) -> Refusal | None:
    """Each `cache` marker is one `cache_control` breakpoint; Anthropic takes at most 4 a request."""
    for count, where in enumerate(_cache_markers(request), start=1):
        if count > CACHE_BREAKPOINTS_MAX:
            return Refusal(
                f"Anthropic takes at most {CACHE_BREAKPOINTS_MAX} cache markers (cache_control breakpoints) "
                f"in a request: this is the {count}th (tools, then the system prompt, then the messages)",
                where,
            )
    return None


CHECKS: tuple[Callable[[LLMRequest], Refusal | None], ...] = (
    too_many_cache_markers,
    refused_part,
    media_over_limits,
    unsent_sampling,
    refused_reasoning,
)
