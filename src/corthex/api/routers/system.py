"""Health, Prometheus metrics, and the signed OpenAI batch webhook."""

from __future__ import annotations

import logging
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response

from corthex.api.metrics import CONTENT_TYPE
from corthex.api.schemas import ErrorBody, Health, Strings
from corthex.api.state import ServerState, server_state
from corthex.domain.chain import ChainStatus
from corthex.i18n import LANGUAGES, choose_language, dashboard_strings, language_of

log = logging.getLogger(__name__)
State = Annotated[ServerState, Depends(server_state)]
open_router = APIRouter(tags=["system"])  # no token: probes and signed webhooks
router = APIRouter(tags=["system"])


@open_router.get("/healthz", response_model=Health)
async def healthz(state: State) -> Health:
    worker = state.worker is not None and not state.worker.done()
    emulated = state.engine.emulated_providers()
    return Health(status="ok", worker=worker, telegram=state.telegram is not None, emulated=emulated)


@open_router.get("/i18n", response_model=Strings)
async def strings(
    state: State,
    lang: Annotated[str | None, Query(description="ko or en; unset (or unknown): the server's default")] = None,
    accept_language: Annotated[str | None, Header()] = None,
) -> Strings:
    """The dashboard's words in `lang`, and the server's default language (as the bot chooses
    it, with the browser's language in place of the Telegram user's). Open: nothing secret."""
    browser = (accept_language or "").split(",")[0].split(";")[0].strip() or None
    default = choose_language(state.settings.language, state.settings.timezone, browser)
    chosen = language_of(lang) or default
    return Strings(lang=chosen, default=default, languages=list(LANGUAGES), strings=dashboard_strings(chosen))


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
async def metrics(state: State) -> Response:
    counts = await state.engine.counts()
    queue = await state.engine.queue_stats()
    running = await state.engine.chain_count(ChainStatus.RUNNING)
    body = state.metrics.render(counts, queue=queue.requests, running_chains=running, clients=state.hub.clients)
    return Response(body, media_type=CONTENT_TYPE)


@open_router.post(
    "/webhooks/openai",
    responses={400: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)
async def openai_webhook(request: Request, state: State) -> dict[str, object]:
    """OpenAI batch webhooks (Standard Webhooks signature, OPENAI_WEBHOOK_SECRET): a `batch.*`
    event makes the poller look at that batch now instead of at its next interval."""
    if state.webhooks is None or not state.webhook_secret:
        raise HTTPException(503, "webhooks are not configured: set OPENAI_WEBHOOK_SECRET")
    payload = await request.body()
    try:
        event = state.webhooks.webhooks.unwrap(payload, request.headers, secret=state.webhook_secret)
    except Exception as exc:  # bad or missing signature headers, stale timestamp, bad JSON
        log.warning("OpenAI webhook refused: %s", exc)
        raise HTTPException(400, "invalid webhook signature") from None
    kind = str(getattr(event, "type", ""))
    if not state.first_sight_of_webhook(request.headers.get("webhook-id", ""), time.time()):
        log.info("OpenAI webhook %s replayed: not acted on again", request.headers.get("webhook-id"))
        return {"handled": False, "type": kind, "replayed": True}
    remote_id = str(getattr(getattr(event, "data", None), "id", "") or "")
    if not kind.startswith("batch.") or not remote_id:
        return {"handled": False, "type": kind}
    batch_id = await state.engine.open_batch_for_remote("openai", remote_id)
    if batch_id is not None:
        await state.engine.poll_soon(batch_id)
    log.info("OpenAI webhook %s for %s (batch %s)", kind, remote_id, batch_id or "not open here")
    return {"handled": batch_id is not None, "type": kind, "batch_id": batch_id}
