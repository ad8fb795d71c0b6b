"""The API token: when CORTHEX_API_TOKEN is set, every REST call needs `Authorization: Bearer
<token>` and the WebSocket needs it too (or `?token=`, as browsers cannot set WebSocket
headers). /healthz, the dashboard's static files and the signed webhook stay open."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

bearer = HTTPBearer(auto_error=False, description="CORTHEX_API_TOKEN, when the server has one")


def token_matches(expected: str | None, given: str | None) -> bool:
    if not expected:
        return True
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


async def require_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    expected = request.app.state.corthex.settings.api_token
    given = credentials.credentials if credentials is not None else None
    if not token_matches(expected, given):
        raise HTTPException(401, "missing or wrong API token", headers={"WWW-Authenticate": "Bearer"})


def websocket_token(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return websocket.query_params.get("token")
