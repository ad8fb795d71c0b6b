"""The server's FastAPI app: REST (OpenAPI at /docs), /ws, the dashboard at /, and — for the
app's lifetime — the engine's worker loop (dispatcher, poller, chain orchestrator) and the
Telegram bot when TELEGRAM_BOT_TOKEN is set.

    app = create_app(Settings())      # nothing global: each app has its own engine and hub
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.responses import Response

from corthex.api import errors
from corthex.api.auth import require_token
from corthex.api.events import EventHub, WebSocketDelivery
from corthex.api.limits import BodyLimit
from corthex.api.metrics import Metrics
from corthex.api.routers import batches, chains, info, jobs, queue, system, ws
from corthex.api.state import ServerState
from corthex.config import Settings
from corthex.engine.engine import Engine
from corthex.redaction import Redactor, install_log_redaction

log = logging.getLogger(__name__)
DASHBOARD = Path(__file__).parent / "dashboard"
STOP_GRACE = 10.0  # seconds the worker loop gets to finish its round at shutdown

EngineFactory = Callable[[Settings], AbstractAsyncContextManager[Engine]]


def create_app(settings: Settings, *, engine_factory: EngineFactory | None = None) -> FastAPI:
    redact = Redactor.from_settings(settings)
    factory: EngineFactory = engine_factory or Engine

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_log_redaction(redact)
        async with factory(settings) as engine:
            state = _state(settings, engine, redact)
            app.state.corthex = state
            stop = asyncio.Event()
            try:
                await _start_telegram(state)
                state.worker = asyncio.create_task(engine.run(stop), name="corthex-worker")
                yield
            finally:
                await _shutdown(state, stop)

    # /docs and /redoc with Swagger UI and ReDoc served from the package, not a CDN: they work
    # on a machine without internet access
    app = FastAPIOffline(
        title="CORTHEX Batch",
        summary="LLM work through the OpenAI, Anthropic and Gemini Batch APIs; delegation chains.",
        version="0.1.0",
        lifespan=lifespan,
    )
    errors.install(app, redact)
    app.add_middleware(BodyLimit)
    protected = [Depends(require_token)]
    for module in (jobs, queue, batches, chains, info):
        app.include_router(module.router, dependencies=protected)
    app.include_router(system.router, dependencies=protected)
    app.include_router(system.open_router)
    app.include_router(ws.router)
    app.mount("/", Dashboard(directory=DASHBOARD, html=True), name="dashboard")
    return app


class Dashboard(StaticFiles):
    """The dashboard's files, revalidated on every load: a new version never mixes with a
    cached old one (the ETag keeps it cheap)."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def _state(settings: Settings, engine: Engine, redact: Redactor) -> ServerState:
    hub, metrics = EventHub(redact), Metrics()
    engine.bus.subscribe(hub.on_event)
    engine.bus.subscribe(metrics.on_event)
    engine.add_delivery(WebSocketDelivery(engine.bus.publish, engine.chain_cost))
    secret = settings.openai_webhook_secret or None  # also from a .env file
    webhooks = None
    if secret:
        import openai  # only to verify signatures: no call is made with this client

        webhooks = openai.AsyncOpenAI(api_key="unused-webhook-verification", webhook_secret=secret)
    return ServerState(
        settings=settings,
        engine=engine,
        hub=hub,
        redact=redact,
        metrics=metrics,
        webhook_secret=secret,
        webhooks=webhooks,
    )


async def _start_telegram(state: ServerState) -> None:
    if not state.settings.telegram_bot_token:
        return
    try:
        from corthex.telegram import TelegramService

        service = TelegramService(state.engine, state.settings)
        await service.start()
    except Exception:  # the web side must still come up; /healthz shows telegram: false
        log.exception("TELEGRAM_BOT_TOKEN is set but the Telegram bot could not start")
        return
    state.engine.add_delivery(service.delivery)
    state.telegram = service
    log.info("Telegram bot started")


async def _shutdown(state: ServerState, stop: asyncio.Event) -> None:
    stop.set()
    state.engine.wake()
    if state.worker is not None:
        try:
            await asyncio.wait_for(state.worker, STOP_GRACE)
        except TimeoutError:
            log.warning("worker loop did not stop in %.0fs; canceled", STOP_GRACE)
    for task in list(state.tasks):
        task.cancel()
    for task in list(state.tasks):
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    if state.telegram is not None:
        with contextlib.suppress(Exception):
            await state.telegram.stop()
    if state.webhooks is not None:
        await state.webhooks.close()
