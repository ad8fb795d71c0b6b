"""Gemini Files API with the resumable upload protocol, under `/gemini` (PROVIDERS.md §3.5).

Step 1 (`X-Goog-Upload-Command: start`) answers with `x-goog-upload-url` on this emulator's own
host; step 2 posts the bytes there, without an API key, and gets `x-goog-upload-status: final`.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Request
from starlette.responses import FileResponse, Response

from corthex.emulator.asks import pick
from corthex.emulator.errors import EmulatorError, ok_with_error_body
from corthex.emulator.gemini_batches import PendingUpload, sha256_b64
from corthex.emulator.gemini_render import GeminiFile
from corthex.emulator.guard import MISSING_KEY, get_state, guard, has_key
from corthex.emulator.http import json_response, public_root, query_int, read_json
from corthex.emulator.ids import LOWER, new_id
from corthex.emulator.state import EmulatorState

router = APIRouter(prefix="/gemini")
VERSIONS = ("v1", "v1beta", "v1alpha")


def err(status: int, message: str) -> EmulatorError:
    return EmulatorError("gemini", status, message)


def check_version(version: str) -> None:
    if version not in VERSIONS:
        raise err(404, f"Unknown API version '{version}'.")


@router.post("/upload/{version}/files", dependencies=[guard("gemini", "upload", auth=False, deferred=("error_body",))])
async def upload(request: Request, version: str) -> Response:
    """Both steps share the path; step 2 carries `upload_id` and needs no key (§3.5)."""
    check_version(version)
    upload_id = request.query_params.get("upload_id")
    if upload_id is None:
        return await _start(request, version)
    return await _chunk(request, version, upload_id)


async def _start(request: Request, version: str) -> Response:
    if not has_key("gemini", request):
        raise err(401, MISSING_KEY["gemini"])
    if request.headers.get("x-goog-upload-protocol", "").lower() != "resumable":
        raise err(400, "Only the resumable upload protocol is supported by the emulator.")
    state = get_state(request)
    body = await read_json(request, "gemini")
    meta = pick(body, "file") or {}
    upload_id = new_id("", 32)
    file_id = str(pick(meta, "name") or "").removeprefix("files/") or None
    state.gemini.uploads[upload_id] = PendingUpload(
        id=upload_id,
        display_name=pick(meta, "displayName"),
        mime_type=pick(meta, "mimeType")
        or request.headers.get("x-goog-upload-header-content-type", "application/octet-stream"),
        name=file_id,
        path=state.gemini.file_path(f"upload-{upload_id}"),
    )
    root = public_root(request, state.config.public_url)
    url = f"{root}/gemini/upload/{version}/files?upload_id={upload_id}&upload_protocol=resumable"
    return Response(headers={"x-goog-upload-url": url, "x-goog-upload-status": "active"})


async def _chunk(request: Request, version: str, upload_id: str) -> Response:
    state = get_state(request)
    pending = state.gemini.uploads.get(upload_id)
    if pending is None:
        raise err(404, f"No upload session {upload_id}.")
    command = request.headers.get("x-goog-upload-command", "")
    if "upload" in command:
        offset = int(request.headers.get("x-goog-upload-offset", pending.received))
        pending.received = await _append(request, pending, offset)
    if "finalize" not in command:
        return Response(
            headers={"x-goog-upload-status": "active", "x-goog-upload-size-received": str(pending.received)}
        )
    refusal = _refusal(state, pending)
    if refusal is not None:  # answered as the real API does: HTTP 200, an error body, no file
        del state.gemini.uploads[pending.id]
        await asyncio.to_thread(pending.path.unlink, True)
        return ok_with_error_body(refusal, headers={"x-goog-upload-status": "final"})
    stored = await _finalize(state, pending)
    root = public_root(request, state.config.public_url)
    return json_response({"file": stored.to_json(root, version)}, headers={"x-goog-upload-status": "final"})


def _refusal(state: EmulatorState, pending: PendingUpload) -> EmulatorError | None:
    """Why the upload's last step is refused: an `error_body` fault, or (realistic) a MIME type
    that is not `type/subtype`, such as the docs' former "jsonl" (python-genai#1547)."""
    fault = state.faults.take_call_fault("gemini", "upload", ("error_body",))
    if fault is not None:
        return err(fault.status, "Upload refused (emulated error_body fault).")
    if state.config.realistic and "/" not in pending.mime_type:
        return err(400, f"Unsupported MIME type: {pending.mime_type}")
    return None


async def _append(request: Request, pending: PendingUpload, offset: int) -> int:
    """Stream the chunk to disk at `offset`; the size received so far."""
    mode: Literal["r+b", "wb"] = "r+b" if pending.path.exists() else "wb"
    async with await anyio.open_file(pending.path, mode) as out:
        await out.seek(offset)
        async for chunk in request.stream():
            await out.write(chunk)
        return int(await out.tell())


async def _finalize(state: EmulatorState, pending: PendingUpload) -> GeminiFile:
    del state.gemini.uploads[pending.id]
    file_id = pending.name or new_id("", 12, LOWER)
    path = state.gemini.file_path(file_id)
    if not pending.path.exists():
        pending.path.touch()
    await asyncio.to_thread(pending.path.replace, path)
    digest = await asyncio.to_thread(sha256_b64, path)
    stored = GeminiFile(
        file_id, pending.display_name, pending.mime_type, path.stat().st_size, state.now(), path, digest
    )
    state.gemini.files[file_id] = stored
    state.counters.record_upload("gemini")
    return stored


@router.get("/{version}/files", dependencies=[guard("gemini", "list")])
async def list_files(request: Request, version: str) -> Response:
    check_version(version)
    state = get_state(request)
    size = query_int(request, "gemini", "pageSize", 10, 1, 100)
    files = list(reversed(state.gemini.files.values()))
    page, token = page_of(files, request.query_params.get("pageToken"), size)
    root = public_root(request, state.config.public_url)
    data: dict[str, Any] = {"files": [f.to_json(root, version) for f in page]}
    if token:
        data["nextPageToken"] = token
    return json_response(data)


@router.get("/{version}/files/{file_id}:download", dependencies=[guard("gemini", "results")])
async def download(request: Request, version: str, file_id: str) -> Response:
    check_version(version)
    stored = _file(get_state(request), file_id)
    return FileResponse(stored.path, media_type=stored.mime_type)


@router.get("/{version}/files/{name}", dependencies=[guard("gemini", "retrieve")])
async def get_file(request: Request, version: str, name: str) -> Response:
    check_version(version)
    state = get_state(request)
    stored = _file(state, name)
    return json_response(stored.to_json(public_root(request, state.config.public_url), version))


@router.delete("/{version}/files/{name}", dependencies=[guard("gemini", "delete")])
async def delete_file(request: Request, version: str, name: str) -> Response:
    check_version(version)
    state = get_state(request)
    stored = _file(state, name)
    del state.gemini.files[stored.id]
    in_use = any(b.input_file is stored for b in state.gemini.batches.values())
    if not in_use:
        await asyncio.to_thread(stored.path.unlink, True)
    return json_response({})


def _file(state: EmulatorState, file_id: str) -> GeminiFile:
    stored = state.gemini.files.get(file_id.removeprefix("files/"))
    if stored is None:
        raise err(404, f"File files/{file_id} not found or you do not have access to it.")
    return stored


def page_of(items: list[Any], token: str | None, size: int) -> tuple[list[Any], str | None]:
    """A page and the next page token (the id of the next item)."""
    ids = [item.id for item in items]
    start = ids.index(token) if token and token in ids else (len(ids) if token else 0)
    page = items[start : start + size]
    more = start + size < len(items)
    return page, items[start + size].id if more else None
