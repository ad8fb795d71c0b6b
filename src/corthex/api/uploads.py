"""JSONL uploads: copied to a file under the data directory in chunks (never held whole in
memory), validated and recorded by the engine, then removed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import UploadFile

from corthex.api.limits import UPLOAD_LIMIT, TooLarge

CHUNK = 1024 * 1024


@asynccontextmanager
async def saved_upload(upload: UploadFile, data_dir: Path) -> AsyncIterator[Path]:
    folder = data_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.jsonl"
    try:
        size = 0
        with path.open("wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > UPLOAD_LIMIT:
                    raise TooLarge(UPLOAD_LIMIT)
                out.write(chunk)
        yield path
    finally:
        path.unlink(missing_ok=True)
        await upload.close()
