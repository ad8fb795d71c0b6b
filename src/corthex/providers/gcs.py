"""Cloud Storage objects over its JSON API (httpx): the three calls Vertex AI batch prediction
needs (upload an input file, list the output directory, download a predictions file).

Why not `google-cloud-storage`: it is synchronous (every call would go to a thread), pulls in
google-api-core, google-resumable-media and protobuf, and we need three plain HTTP calls
(docs/wire/platforms.md §3.6). httpx and google-auth are already here. Like that library, we
honour `STORAGE_EMULATOR_HOST` (then no credentials are sent), so tests run against a local
Cloud Storage (`gcp-storage-emulator`).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

import httpx

EMULATOR_VARIABLE = "STORAGE_EMULATOR_HOST"
GOOGLE_STORAGE = "https://storage.googleapis.com"
#: `gcp-storage-emulator` parses a body whose type starts with "application/json" as JSON (so
#: "application/jsonl" too): the input goes as NDJSON, which is what JSON Lines is
JSONL_TYPE = "application/x-ndjson"

TokenSource = Callable[[], Awaitable[str | None]]


class GcsError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class GsUri:
    bucket: str
    name: str  #: the object name, or a prefix ("" for the bucket's root)

    @classmethod
    def parse(cls, uri: str) -> GsUri:
        """:raises ValueError: not a `gs://bucket/…` URI."""
        if not uri.startswith("gs://") or not uri[5:].split("/", 1)[0]:
            raise ValueError(f"{uri!r} is not a Cloud Storage URI (gs://bucket/path)")
        bucket, _, name = uri[5:].partition("/")
        return cls(bucket, name)

    def __str__(self) -> str:
        return f"gs://{self.bucket}/{self.name}"

    def child(self, name: str) -> GsUri:
        return GsUri(self.bucket, f"{self.name.rstrip('/')}/{name}" if self.name else name)


def endpoint_from_env(environ: dict[str, str] | None = None) -> tuple[str, bool]:
    """(the JSON API's root, whether it is an emulator: no credentials then)."""
    host = (environ if environ is not None else os.environ).get(EMULATOR_VARIABLE, "").strip()
    if not host:
        return GOOGLE_STORAGE, False
    return (host if "://" in host else f"http://{host}").rstrip("/"), True


class GcsClient:
    """`token`: an awaitable giving the bearer token (None: send none, as to an emulator)."""

    def __init__(self, endpoint: str, token: TokenSource | None = None, *, timeout: float = 60.0) -> None:
        self._endpoint, self._token = endpoint.rstrip("/"), token
        self._http = httpx.AsyncClient(timeout=timeout)

    async def _headers(self) -> dict[str, str]:
        token = await self._token() if self._token is not None else None
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def upload(self, uri: GsUri, data: bytes, content_type: str = JSONL_TYPE) -> None:
        url = f"{self._endpoint}/upload/storage/v1/b/{quote(uri.bucket, safe='')}/o"
        headers = {**await self._headers(), "Content-Type": content_type}
        response = await self._http.post(
            url, params={"uploadType": "media", "name": uri.name}, content=data, headers=headers
        )
        _check(response, f"upload {uri}")

    async def list(self, prefix: GsUri) -> list[str]:
        """The names of the objects under `prefix` (every page)."""
        url = f"{self._endpoint}/storage/v1/b/{quote(prefix.bucket, safe='')}/o"
        names: list[str] = []
        params = {"prefix": prefix.name}
        while True:
            response = await self._http.get(url, params=params, headers=await self._headers())
            _check(response, f"list {prefix}")
            page = response.json()
            names += [item["name"] for item in page.get("items") or [] if isinstance(item, dict) and "name" in item]
            if not page.get("nextPageToken"):
                return names
            params = {"prefix": prefix.name, "pageToken": page["nextPageToken"]}

    async def download(self, uri: GsUri) -> AsyncIterator[bytes]:
        """The object's bytes, streamed."""
        url = f"{self._endpoint}/download/storage/v1/b/{quote(uri.bucket, safe='')}/o/{quote(uri.name, safe='')}"
        async with self._http.stream("GET", url, params={"alt": "media"}, headers=await self._headers()) as response:
            if response.status_code >= 400:
                await response.aread()
                _check(response, f"download {uri}")
            async for chunk in response.aiter_bytes():
                yield chunk

    async def read(self, uri: GsUri) -> bytes:
        return b"".join([chunk async for chunk in self.download(uri)])

    async def aclose(self) -> None:
        await self._http.aclose()


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code < 400:
        return
    try:
        message = response.json().get("error", {}).get("message") or response.text
    except ValueError:
        message = response.text
    raise GcsError(response.status_code, f"Cloud Storage {what}: HTTP {response.status_code}: {message[:300]}")
