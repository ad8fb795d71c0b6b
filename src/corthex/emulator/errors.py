"""Error bodies in each provider's own shape (PROVIDERS.md §1.1, §2.1, §3.1)."""

from __future__ import annotations

import secrets
from typing import Any

import orjson
from starlette.responses import Response

OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "invalid_request_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    429: "rate_limit_exceeded",
}
ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
DEFAULT_MESSAGES = {
    401: "Missing or invalid API key.",
    404: "Not found.",
    429: "Rate limit reached (emulated fault).",
    500: "The server had an error while processing your request (emulated fault).",
    503: "The service is temporarily unavailable (emulated fault).",
}


class EmulatorError(Exception):
    """An error answer to send in `provider`'s error shape."""

    def __init__(
        self,
        provider: str,
        status: int,
        message: str | None = None,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.provider = provider
        self.status = status
        self.message = message or DEFAULT_MESSAGES.get(status, f"HTTP {status} (emulated).")
        self.param = param
        self.code = code
        self.headers = headers or {}
        super().__init__(self.message)


class RawResponse(Exception):
    """Short-circuit a handler with a ready response (e.g. a malformed-body fault)."""

    def __init__(self, response: Response) -> None:
        self.response = response


def request_id(prefix: str = "req_") -> str:
    return prefix + secrets.token_hex(12)


def openai_error(status: int, message: str, param: str | None, code: str | None) -> dict[str, Any]:
    kind = OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    if status == 429 and code is None:
        code = "rate_limit_exceeded"
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def anthropic_error(status: int, message: str) -> dict[str, Any]:
    kind = ANTHROPIC_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id()}


def gemini_error(status: int, message: str) -> dict[str, Any]:
    name = GEMINI_STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
    return {"error": {"code": status, "message": message, "status": name}}


def mistral_error(status: int, message: str) -> dict[str, Any]:
    """A 401 is the gateway's `{"message": "Unauthorized", "request_id"}`; the API's own errors
    are `{"object": "error", "message", "type", "param", "code"}` (docs/wire/platforms.md §4.5,
    the exact bodies UNVERIFIED)."""
    if status == 401:
        return {"message": message, "request_id": secrets.token_hex(16)}
    kind = "invalid_request_error" if status < 500 else "internal_server_error"
    return {"object": "error", "message": message, "type": kind, "param": None, "code": None}


def error_body(err: EmulatorError) -> dict[str, Any]:
    if err.provider == "openai":
        return openai_error(err.status, err.message, err.param, err.code)
    if err.provider == "anthropic":
        return anthropic_error(err.status, err.message)
    if err.provider in ("gemini", "vertex"):
        return gemini_error(err.status, err.message)
    if err.provider == "mistral":
        return mistral_error(err.status, err.message)
    return {"error": {"message": err.message, "status": err.status}}


def ok_with_error_body(err: EmulatorError, headers: dict[str, str] | None = None) -> Response:
    """HTTP 200 whose body is an error (the Files API answers a refused upload so,
    python-genai#1547): clients that trust the status read a body they did not expect."""
    return Response(orjson.dumps(error_body(err)), status_code=200, media_type="application/json", headers=headers)


def error_response(err: EmulatorError) -> Response:
    headers = dict(err.headers)
    if err.provider == "anthropic":
        headers.setdefault("request-id", request_id())
    elif err.provider == "openai":
        headers.setdefault("x-request-id", request_id())
    return Response(
        orjson.dumps(error_body(err)),
        status_code=err.status,
        media_type="application/json",
        headers=headers,
    )


def provider_of_path(path: str) -> str:
    for name in ("openai", "anthropic", "gemini", "vertex", "mistral"):
        if path.startswith(f"/{name}/") or path == f"/{name}":
            return name
    return "emulator"
