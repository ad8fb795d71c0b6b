"""The providers' model lists (`GET …/models`): the cheapest authenticated call each API has,
what `corthex doctor` and the check before a submission make to see that an endpoint answers
and takes the key. A short fixed list per provider, in each API's own shape."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from corthex.emulator.gemini_files import check_version
from corthex.emulator.guard import guard
from corthex.emulator.http import json_response, query_int

MODELS = {
    "openai": ("gpt-5-mini", "gpt-5", "gpt-5-nano", "gpt-4.1", "gpt-4o-mini"),
    "anthropic": ("claude-sonnet-4-6", "claude-opus-4-6", "claude-haiku-4-5"),
    "gemini": ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite"),
    "mistral": ("mistral-small-latest", "mistral-medium-latest", "magistral-small-latest", "codestral-latest"),
}
CREATED = 1_754_000_000  #: a fixed time: the answers are deterministic

router = APIRouter()


@router.get("/openai/v1/models", dependencies=[guard("openai", "models")])
async def openai_models() -> Response:
    data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "openai"} for m in MODELS["openai"]]
    return json_response({"object": "list", "data": data})


@router.get("/anthropic/v1/models", dependencies=[guard("anthropic", "models")])
async def anthropic_models(request: Request) -> Response:
    limit = query_int(request, "anthropic", "limit", 20, 1, 1000)
    names = MODELS["anthropic"][:limit]
    data = [{"type": "model", "id": m, "display_name": m, "created_at": "2025-08-01T00:00:00Z"} for m in names]
    more = len(MODELS["anthropic"]) > limit
    return json_response({"data": data, "has_more": more, "first_id": names[0], "last_id": names[-1]})


@router.get("/gemini/{version}/models", dependencies=[guard("gemini", "models")])
async def gemini_models(request: Request, version: str) -> Response:
    check_version(version)
    size = query_int(request, "gemini", "pageSize", 50, 1, 1000)
    models = [{"name": f"models/{m}", "displayName": m} for m in MODELS["gemini"][:size]]
    data: dict[str, object] = {"models": models}
    if size < len(MODELS["gemini"]):
        data["nextPageToken"] = str(size)
    return json_response(data)


@router.get("/mistral/v1/models", dependencies=[guard("mistral", "models")])
async def mistral_models() -> Response:
    data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "mistralai"} for m in MODELS["mistral"]]
    return json_response({"object": "list", "data": data})
