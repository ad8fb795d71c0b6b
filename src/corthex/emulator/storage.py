"""A local Cloud Storage for Vertex AI jobs: `gcp-storage-emulator` (PyPI, pure Python, the dev
extra), started in-process on a free port (tests, `corthex emulator`). Imported only when asked."""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Any

#: the bucket `sdk_env` points CORTHEX_VERTEX_GCS_URI at (created when the storage starts)
BUCKET = "corthex-batch"
HOW_TO_START = (
    "pip install gcp-storage-emulator && gcp-storage-emulator start"
    f" --host=127.0.0.1 --port=9023 --in-memory --default-bucket={BUCKET}"
)


def available() -> bool:
    try:
        import gcp_storage_emulator  # noqa: F401
    except ImportError:
        return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A free port now (the storage emulator takes no port 0)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class LocalStorage:
    """`with LocalStorage() as gcs: os.environ["STORAGE_EMULATOR_HOST"] = gcs.url`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port or free_port(host)
        self._server: Any = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalStorage:
        from gcp_storage_emulator.server import create_server  # the dev extra

        self._server = create_server(self.host, self.port, in_memory=True, default_bucket=BUCKET)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> LocalStorage:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
