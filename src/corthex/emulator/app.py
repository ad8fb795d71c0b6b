"""The emulator's FastAPI app: OpenAI, Anthropic and Gemini Batch APIs on one port.

/openai/v1/...     OPENAI_BASE_URL=http://HOST:PORT/openai/v1
/anthropic/v1/...  ANTHROPIC_BASE_URL=http://HOST:PORT/anthropic
/gemini/{v}/...    GOOGLE_GEMINI_BASE_URL=http://HOST:PORT/gemini  (v1 and v1beta)
/vertex/{v}/projects/{p}/locations/{l}/batchPredictionJobs  GOOGLE_VERTEX_BASE_URL=http://HOST:PORT/vertex (v1, v1beta1)
/mistral/v1/...    MISTRAL_BASE_URL=http://HOST:PORT/mistral  (the SDK's server_url)
/bedrock/...       AWS_ENDPOINT_URL_BEDROCK=http://HOST:PORT/bedrock  (its S3: AWS_ENDPOINT_URL_S3)
/compat/{name}/openai/v1/...  an OpenAI-compatible server's own (GROQ_BASE_URL=…/compat/groq/openai/v1)
/azure/openai/...  Azure OpenAI (AZURE_OPENAI_ENDPOINT=http://HOST:PORT/azure): v1 and api-version forms
/_emulator/...     faults, stats, reset, config
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from corthex.emulator import (
    anthropic_routes,
    bedrock_routes,
    control_routes,
    gemini_files,
    gemini_routes,
    mistral_routes,
    model_routes,
    openai_routes,
    vertex_routes,
)
from corthex.emulator.compat import CompatServers
from corthex.emulator.config import EmulatorConfig
from corthex.emulator.errors import EmulatorError, RawResponse, error_response, provider_of_path
from corthex.emulator.state import EmulatorState


def create_app(config: EmulatorConfig | None = None, *, state: EmulatorState | None = None) -> FastAPI:
    state = state or EmulatorState(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(
        title="CORTHEX provider emulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.emulator = state
    routes = (openai_routes, anthropic_routes, gemini_files, gemini_routes, vertex_routes, mistral_routes)
    app.include_router(bedrock_routes.runtime_router)
    for module in (*routes, bedrock_routes, model_routes, control_routes):
        app.include_router(module.router)
    _add_error_handlers(app)
    app.add_middleware(LateAnswers)
    app.add_middleware(CompatServers, main=state)  # outermost: it rewrites the path first
    return app


class LateAnswers:
    """Holds the answer of a call that met a `late` fault: the call's work is done, its answer
    comes after `delay` seconds (ASGI middleware; the guard marks the request's state)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def late_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                delay = (scope.get("state") or {}).get("late_answer")
                if delay:
                    await asyncio.sleep(delay)
            await send(message)

        await self.app(scope, receive, late_send)


def _add_error_handlers(app: FastAPI) -> None:
    async def emulator_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, EmulatorError)
        return error_response(exc)

    async def raw(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RawResponse)
        return exc.response

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        provider = provider_of_path(request.url.path)
        return error_response(EmulatorError(provider, exc.status_code, str(exc.detail)))

    async def invalid(request: Request, exc: Exception) -> Response:
        provider = provider_of_path(request.url.path)
        return error_response(EmulatorError(provider, 400, str(exc)))

    app.add_exception_handler(EmulatorError, emulator_error)
    app.add_exception_handler(RawResponse, raw)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
