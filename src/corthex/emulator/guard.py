"""What runs before every provider call: counting, recording, the API-key check, call faults.

Call faults answer with `x-should-retry: false` unless the fault sets `retry_after`: the OpenAI
and Anthropic SDKs obey that header, so their built-in retries cannot hide a fault from the code
under test. With `retry_after` the SDKs see a normal retryable answer and wait as told.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import Depends, Request
from starlette.responses import Response

from corthex.emulator.errors import EmulatorError, RawResponse, ok_with_error_body
from corthex.emulator.faults import CALL_KINDS, Fault
from corthex.emulator.state import EmulatorState

MALFORMED_BODY = b"<html><body>502 Bad Gateway (emulated malformed answer)</body></html>"
MISSING_KEY = {
    "openai": "You didn't provide an API key. You need to provide your API key in an "
    "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    "anthropic": "x-api-key header is required",
    "gemini": "Method doesn't allow unregistered callers (callers without established "
    "identity). Please use API Key or other form of API consumer identity to call this API.",
    "mistral": "Unauthorized",
}


#: a key the emulator refuses as the real APIs refuse a wrong one (a test of setup mistakes)
BAD_KEY = "bad-key"
#: Azure OpenAI's answer to a missing or wrong key (SciSharp/BotSharp#386, docs/wire/platforms.md §1.8)
AZURE_DENIED = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key "
    "for an active subscription and use a correct regional API endpoint for your resource."
)


def _azure(request: Request) -> bool:
    return get_state(request).config.openai_flavor == "azure"


def _refuse_azure_key() -> None:
    body = {"error": {"code": "401", "message": AZURE_DENIED}}
    raise RawResponse(Response(orjson.dumps(body), 401, media_type="application/json"))


def raise_key_refused(provider: str) -> None:
    """The real answers to a key that is not valid: OpenAI and Anthropic 401; Gemini 400
    INVALID_ARGUMENT with reason API_KEY_INVALID (quoted in docs/wire/setup-errors.md)."""
    if provider == "openai":
        message = f"Incorrect API key provided: {BAD_KEY}. You can find your API key at https://platform.openai.com/account/api-keys."
        raise EmulatorError(provider, 401, message, code="invalid_api_key")
    if provider == "anthropic":
        raise EmulatorError(provider, 401, "invalid x-api-key")
    if provider == "vertex":  # a Google Cloud API: the OAuth token is refused (docs/wire/platforms.md §3.7)
        message = (
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
            "or other valid authentication credential."
        )
        raise EmulatorError(provider, 401, message)
    if provider == "mistral":
        raise EmulatorError(provider, 401, "Unauthorized")
    message = "API key not valid. Please pass a valid API key."
    reason = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }
    body = {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT", "details": [reason]}}
    raise RawResponse(Response(orjson.dumps(body), 400, media_type="application/json"))


def get_state(request: Request) -> EmulatorState:
    state: EmulatorState = request.scope.get("state", {}).get("emulator_state") or request.app.state.emulator
    return state  # a compatible server's own state (emulator/compat.py), else the emulator's


def guard(provider: str, op: str, *, auth: bool = True, deferred: tuple[str, ...] = ()) -> Any:
    """A route dependency: `dependencies=[guard("openai", "create")]`. Call faults of the
    `deferred` kinds are left for the route to take itself, at the step where they belong."""
    kinds = tuple(kind for kind in CALL_KINDS if kind not in deferred)

    async def check(request: Request) -> None:
        state = get_state(request)
        state.counters.count_call(provider, op)
        if provider == "openai":
            _record_openai(state, request)
        if auth and provider == "openai" and _azure(request):
            _check_azure_key(request)
        elif auth and not has_key(provider, request):
            raise EmulatorError(provider, 401, MISSING_KEY[provider])
        elif auth and presented_key(provider, request) == BAD_KEY:
            raise_key_refused(provider)
        fault = state.faults.take_call_fault(provider, op, kinds)
        if fault is not None and fault.kind == "late":
            request.state.late_answer = fault.delay  # served now, answered late (app.LateAnswers)
        elif fault is not None:
            await apply_fault(provider, fault, request)

    return Depends(check)


def _check_azure_key(request: Request) -> None:
    """Azure takes the key in `api-key` (the SDK's AzureOpenAI) or as a Bearer token (the v1
    API's OpenAI-client examples); neither, or a wrong one: 401."""
    key = request.headers.get("api-key", "").strip() or presented_key("openai", request)
    if not key or key == BAD_KEY:
        _refuse_azure_key()


def has_key(provider: str, request: Request) -> bool:
    bearer = request.headers.get("authorization", "")
    has_bearer = bearer.lower().startswith("bearer ") and bool(bearer[7:].strip())
    if provider in ("openai", "mistral"):
        return has_bearer
    if provider == "anthropic":
        return has_bearer or bool(request.headers.get("x-api-key", "").strip())
    return (
        bool(request.headers.get("x-goog-api-key", "").strip()) or bool(request.query_params.get("key")) or has_bearer
    )


async def apply_fault(provider: str, fault: Fault, request: Request) -> None:
    if fault.kind == "echo_key":
        raise RawResponse(Response(_echoed_key_page(provider, request), fault.status, media_type="text/html"))
    if fault.kind == "slow":
        await asyncio.sleep(fault.delay)
        return
    if fault.kind == "malformed":
        raise RawResponse(Response(MALFORMED_BODY, 200, media_type="application/json"))
    if fault.kind == "error_body":
        raise RawResponse(ok_with_error_body(EmulatorError(provider, fault.status)))
    headers = {"x-should-retry": "false"}
    if fault.retry_after is not None:
        headers = {
            "retry-after": f"{fault.retry_after:g}",
            "retry-after-ms": str(int(fault.retry_after * 1000)),
        }
    raise EmulatorError(provider, fault.status, headers=headers)


def _echoed_key_page(provider: str, request: Request) -> bytes:
    """A gateway's 401 page that quotes the key it was given, wrapped every 8 characters."""
    key = presented_key(provider, request)
    wrapped = "\n".join(key[i : i + 8] for i in range(0, len(key), 8))
    return f"<html><body><h1>401 Unauthorized</h1><pre>API key not valid:\n{wrapped}\n</pre></body></html>".encode()


def presented_key(provider: str, request: Request) -> str:
    bearer = request.headers.get("authorization", "")
    if bearer.lower().startswith("bearer "):
        return bearer[7:].strip()
    names = {"anthropic": ("x-api-key",), "gemini": ("x-goog-api-key",)}.get(provider, ())
    found = [request.headers.get(name, "") for name in names] + [request.query_params.get("key", "")]
    return next((value for value in found if value), "")


def _record_openai(state: EmulatorState, request: Request) -> None:
    prefix = "/openai/v1"
    path = request.url.path
    entry: dict[str, Any] = {
        "method": request.method,
        "path": path[len(prefix) :] if path.startswith(prefix) else path,
        "query": dict(request.query_params),
        "key_header": "api-key" if request.headers.get("api-key") else "authorization",
        "sent_path": (request.scope.get("state") or {}).get("sent_path", path),  # before a profile's rewrite
    }
    state.openai_requests.append(entry)
    request.state.record = entry


def record(request: Request, **fields: Any) -> None:
    """Add the parsed body to this call's OpenAI record (a no-op for other providers)."""
    entry = getattr(request.state, "record", None)
    if entry is not None:
        entry.update(fields)
