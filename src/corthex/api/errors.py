"""Error bodies: {"detail": …} always, plus "problems" (line/field/reason) for invalid input.

400 malformed JSON · 402 over the daily budget · 404 unknown id · 409 cancel of an ended job
· 413 body too large (limits.py) · 422 invalid body · 503 a provider the requests need is not
set up on the server (no key, endpoint unreachable: the fix is in `detail`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from corthex.errors import BudgetExceeded, InvalidInput, JobFinished, NotFound, SetupError, UsageError

log = logging.getLogger(__name__)


def _plain(body: Callable[[str], dict[str, Any]], status: int) -> Callable[[Request, Exception], Any]:
    """A handler answering `status` with the exception's message as `detail`."""

    async def handler(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(body(str(exc)), status_code=status)

    return handler


def install(app: FastAPI, redact: Callable[[str], str]) -> None:
    def body(detail: str, problems: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"detail": redact(detail)}
        if problems is not None:
            out["problems"] = problems
        return out

    for kind, status in ((NotFound, 404), (JobFinished, 409), (BudgetExceeded, 402), (SetupError, 503)):
        app.add_exception_handler(kind, _plain(body, status))

    @app.exception_handler(InvalidInput)
    async def invalid_input(_: Request, exc: InvalidInput) -> JSONResponse:
        problems = [
            {"line": p.line, "unit": p.unit, "field": p.field, "reason": redact(p.reason)} for p in exc.problems
        ]
        summary = f"{len(problems)} problem(s), nothing submitted: " + "; ".join(str(p) for p in exc.problems[:5])
        return JSONResponse(body(summary, problems), status_code=422)

    @app.exception_handler(SetupError)
    async def not_set_up(_: Request, exc: SetupError) -> JSONResponse:
        return JSONResponse(body(str(exc)), status_code=503)

    @app.exception_handler(UsageError)
    async def usage_error(_: Request, exc: UsageError) -> JSONResponse:
        return JSONResponse(body(str(exc)), status_code=422)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
        if bad_json is not None:
            reason = (bad_json.get("ctx") or {}).get("error", "invalid JSON")
            return JSONResponse(body(f"malformed JSON body: {reason}"), status_code=400)
        problems = [_problem(e) for e in errors]
        detail = "; ".join(f"{p['field']}: {p['reason']}" if p["field"] else p["reason"] for p in problems)
        return JSONResponse(body(detail or "invalid request", problems), status_code=422)


def _problem(error: dict[str, Any]) -> dict[str, Any]:
    """A pydantic error as a problem: `body.requests.3.model` names item 4's field."""
    loc = [str(x) for x in error.get("loc", ()) if x not in ("body", "query", "path")]
    line = 0
    if len(loc) >= 2 and loc[0] == "requests" and loc[1].isdigit():
        line = int(loc[1]) + 1
    # a problem with the body as a whole (e.g. an array where an object belongs) names the body
    return {"line": line, "unit": "item", "field": ".".join(loc) or "body", "reason": error.get("msg", "invalid")}
