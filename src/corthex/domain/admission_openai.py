"""What OpenAI would refuse in a well-formed request, found at intake (pure; evidence:
docs/wire/requests-openai.md).

Parts: chat completions take a document only as base64 PDF (no file URL, no other type); image
counts and bytes (base64-decoded) per OpenAI's image input requirements; file bytes per request.
Settings: a reasoning effort the model does not take, `stop` and `seed` where the endpoint has
none, more than four stop sequences, `max_output_tokens` under 16 on `/v1/responses`,
`provider_options` that would replace the model or ask for a stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from corthex.domain import admission  # a module: admission imports this one to register CHECKS
from corthex.domain.capabilities import OpenAIEndpoint, for_request, openai_endpoint
from corthex.domain.content import Part, PartType
from corthex.domain.registry import catalogue
from corthex.domain.requests import LLMRequest, ProviderName

MAX_IMAGES = 500  #: images per request ("Up to 500 individual image inputs per request")
MAX_IMAGE_BYTES = 20 * 1024 * 1024  #: per image ("Up to 20MB per image")
MAX_IMAGES_BYTES = 50 * 1024 * 1024  #: all images of a request ("Up to 50 MB total payload")
MAX_FILE_BYTES = 32 * 1024 * 1024  #: all file inputs of a request (32 MB; see the docs page)
MAX_STOP = 4  #: `stop`: "Up to 4 sequences" (spec StopConfiguration maxItems 4)
#: `/v1/responses` refuses fewer (spec CreateResponse `max_output_tokens` minimum 16; the API's
#: 400 `integer_below_min_value`); chat completions has no such floor
MIN_RESPONSES_OUTPUT_TOKENS = 16
#: the document types each endpoint takes: chat only PDFs; responses PDFs and text files
DOCUMENT_TYPES = {
    OpenAIEndpoint.CHAT: frozenset({"application/pdf"}),
    OpenAIEndpoint.RESPONSES: frozenset({"application/pdf", "text/plain"}),
}
_MB = 1024 * 1024


def _openai(
    check: Callable[[LLMRequest], admission.Refusal | None],
) -> Callable[[LLMRequest], admission.Refusal | None]:
    """The check, for OpenAI requests only."""

    def checked(request: LLMRequest) -> admission.Refusal | None:
        return check(request) if catalogue(request.provider) is ProviderName.OPENAI else None

    checked.__name__ = check.__name__
    checked.__doc__ = check.__doc__
    return checked


def _parts(request: LLMRequest) -> Iterator[tuple[str, Part]]:
    """(the field as the line wrote it, the part) of every part of every turn."""
    for m, message in enumerate(request.messages):
        for p, part in enumerate(message.parts):
            yield f"messages[{m}].content[{p}]", part


def decoded_size(data: str) -> int:
    """Bytes of base64 `data` once decoded (without decoding it)."""
    return len(data) * 3 // 4 - data[-2:].count("=")


@_openai
def refused_part(request: LLMRequest) -> admission.Refusal | None:
    """A document type or form the endpoint does not take; an image or document in a turn that
    carries only text (an assistant turn, a chat tool result)."""
    endpoint = openai_endpoint(request.model)
    for m, message in enumerate(request.messages):
        text_only = message.role == "assistant" or (message.role == "tool" and endpoint is OpenAIEndpoint.CHAT)
        for p, part in enumerate(message.parts):
            where = f"messages[{m}].content[{p}]"
            if part.type is not PartType.TEXT and text_only:
                return admission.Refusal(f"OpenAI takes only text in a {message.role!r} turn ({endpoint.value})", where)
            if part.type is PartType.DOCUMENT and (found := _document_refusal(request, part, endpoint, where)):
                return found
    return None


def _document_refusal(
    request: LLMRequest, part: Part, endpoint: OpenAIEndpoint, where: str
) -> admission.Refusal | None:
    if part.url is not None and endpoint is OpenAIEndpoint.CHAT:
        return admission.Refusal(
            f"{request.model} is served by chat completions, which take a document only as base64 'data' "
            "(no file URL): send the PDF as data",
            f"{where}.url",
        )
    allowed = DOCUMENT_TYPES[endpoint]
    if part.media_type is not None and part.media_type not in allowed:
        return admission.Refusal(
            f"{endpoint.value} takes documents of type {', '.join(sorted(allowed))}, not {part.media_type!r}",
            f"{where}.media_type",
        )
    return None


@_openai
def too_many_images(request: LLMRequest) -> admission.Refusal | None:
    images = [(where, part) for where, part in _parts(request) if part.type is PartType.IMAGE]
    if len(images) > MAX_IMAGES:
        return admission.Refusal(
            f"OpenAI takes at most {MAX_IMAGES} images per request, not {len(images)}", images[MAX_IMAGES][0]
        )
    total = 0
    for where, part in images:
        size = decoded_size(part.data) if part.data else 0
        if size > MAX_IMAGE_BYTES:
            return admission.Refusal(
                f"an image may be at most 20 MB for OpenAI; this one is {size / _MB:.1f} MB", f"{where}.data"
            )
        total += size
        if total > MAX_IMAGES_BYTES:
            return admission.Refusal(
                "the images of one request may be at most 50 MB in all for OpenAI", f"{where}.data"
            )
    return None


@_openai
def too_large_files(request: LLMRequest) -> admission.Refusal | None:
    total = 0
    for where, part in _parts(request):
        if part.type is PartType.DOCUMENT and part.data:
            total += decoded_size(part.data)
            if total > MAX_FILE_BYTES:
                return admission.Refusal(
                    "the documents of one request may be at most 32 MB in all for OpenAI", f"{where}.data"
                )
    return None


@_openai
def refused_reasoning(request: LLMRequest) -> admission.Refusal | None:
    """Reasoning on a model that takes none, or an effort the model does not take."""
    caps = for_request(request)
    if request.reasoning is None or not caps.known:
        return None
    if not caps.efforts:
        return admission.Refusal(
            f"{request.model} takes no reasoning setting (it is not a reasoning model)", "reasoning"
        )
    effort = request.reasoning.effort
    if effort is not None and effort.value not in caps.efforts:
        return admission.Refusal(
            f"{request.model} takes reasoning effort {', '.join(_ordered(caps.efforts))}, not {effort.value!r}",
            "reasoning.effort",
        )
    return None


def _ordered(efforts: frozenset[str]) -> list[str]:
    order = ["none", "minimal", "low", "medium", "high"]
    return sorted(efforts, key=lambda e: order.index(e) if e in order else len(order))


@_openai
def refused_stop(request: LLMRequest) -> admission.Refusal | None:
    if not request.stop:
        return None
    if openai_endpoint(request.model) is OpenAIEndpoint.RESPONSES:
        return admission.Refusal(f"{request.model} is served by /v1/responses, which has no 'stop'", "stop")
    if not for_request(request).stop:
        return admission.Refusal(f"{request.model} takes no 'stop' sequences", "stop")
    if len(request.stop) > MAX_STOP:
        return admission.Refusal(f"OpenAI takes at most {MAX_STOP} stop sequences, not {len(request.stop)}", "stop")
    return None


@_openai
def refused_seed(request: LLMRequest) -> admission.Refusal | None:
    if request.seed is not None and openai_endpoint(request.model) is OpenAIEndpoint.RESPONSES:
        return admission.Refusal(f"{request.model} is served by /v1/responses, which has no 'seed'", "seed")
    return None


@_openai
def too_few_output_tokens(request: LLMRequest) -> admission.Refusal | None:
    limit = request.max_output_tokens
    if limit is None or limit >= MIN_RESPONSES_OUTPUT_TOKENS or request.is_embedding:
        return None
    if openai_endpoint(request.model) is not OpenAIEndpoint.RESPONSES:
        return None
    return admission.Refusal(
        f"{request.model} is served by /v1/responses, which takes 'max_output_tokens' of at least "
        f"{MIN_RESPONSES_OUTPUT_TOKENS}, not {limit}",
        "max_output_tokens",
    )


@_openai
def refused_options(request: LLMRequest) -> admission.Refusal | None:
    options = request.provider_options.get("openai") or {}
    if "model" in options:
        return admission.Refusal("the model is the request's 'model', not an option", "provider_options.openai.model")
    if options.get("stream"):
        return admission.Refusal("the Batch API does not stream", "provider_options.openai.stream")
    return None


CHECKS: tuple[Callable[[LLMRequest], admission.Refusal | None], ...] = (
    refused_part,
    too_many_images,
    too_large_files,
    refused_reasoning,
    refused_stop,
    refused_seed,
    too_few_output_tokens,
    refused_options,
)
