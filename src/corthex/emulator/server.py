"""Run the emulator in a background thread (tests, benchmarks, `corthex demo`)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType

import uvicorn

from corthex.emulator.app import create_app
from corthex.emulator.compat import compat_env
from corthex.emulator.config import EmulatorConfig
from corthex.emulator.state import EmulatorState
from corthex.emulator.storage import BUCKET

#: the bucket `corthex emulator` (and the tests) create in the local S3 for Bedrock's jobs
BEDROCK_BUCKET = "corthex-emulator"


def vertex_env(url: str, storage_url: str | None = None) -> dict[str, str]:
    """Vertex AI through google-genai (`vertexai=True`) at the emulator on `url`, its Cloud Storage
    at `storage_url` (a gcp-storage-emulator; left out when not known)."""
    env = {
        "GOOGLE_VERTEX_BASE_URL": f"{url}/vertex",
        "GOOGLE_CLOUD_PROJECT": "corthex-emulator",
        "GOOGLE_CLOUD_LOCATION": "us-central1",
        "CORTHEX_VERTEX_ACCESS_TOKEN": "emulator-vertex-token",
        "CORTHEX_VERTEX_GCS_URI": f"gs://{BUCKET}/vertex",
    }
    return env | ({"STORAGE_EMULATOR_HOST": storage_url} if storage_url else {})


def sdk_env(url: str, storage_url: str | None = None, s3_url: str | None = None) -> dict[str, str]:
    """Environment that points the official SDKs at the emulator serving on `url`."""
    own = {
        "OPENAI_BASE_URL": f"{url}/openai/v1",
        "OPENAI_API_KEY": "emulator-openai-key",
        "ANTHROPIC_BASE_URL": f"{url}/anthropic",
        "ANTHROPIC_API_KEY": "emulator-anthropic-key",
        "GOOGLE_GEMINI_BASE_URL": f"{url}/gemini",
        "GEMINI_API_KEY": "emulator-gemini-key",
        "MISTRAL_BASE_URL": f"{url}/mistral",
        "MISTRAL_API_KEY": "emulator-mistral-key",
    }
    return own | vertex_env(url, storage_url) | compat_env(url) | bedrock_env(url, s3_url)


def bedrock_env(url: str, s3_url: str | None) -> dict[str, str]:
    """boto3 pointed at the emulator's Bedrock control plane and at the local S3 its jobs use:
    dummy keys, a region, a role and an S3 prefix of the right shapes. Nothing without a local S3
    (Bedrock set up by halves would fail `doctor` and every job)."""
    if not s3_url:
        return {}
    env = {
        "AWS_ENDPOINT_URL_BEDROCK": f"{url}/bedrock",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": f"{url}/bedrock-runtime",
        "AWS_ACCESS_KEY_ID": "emulator-aws-key",
        "AWS_SECRET_ACCESS_KEY": "emulator-aws-secret",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",  # what a boto3 client of its own reads
        "CORTHEX_BEDROCK_ROLE_ARN": "arn:aws:iam::123456789012:role/corthex-emulator",
    }
    return env | {"AWS_ENDPOINT_URL_S3": s3_url, "CORTHEX_BEDROCK_S3_URI": f"s3://{BEDROCK_BUCKET}/batches"}


START_TIMEOUT = 10.0


class EmulatorServer:
    """`with EmulatorServer(EmulatorConfig(speed=0.05)) as emu: os.environ.update(emu.env())`."""

    def __init__(self, config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config or EmulatorConfig()
        self.host = host
        self.port = port
        self.state = EmulatorState(self.config)
        self.app = create_app(state=self.state)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmulatorServer:
        # Bind first so that port 0 resolves to a real port before anyone asks for `url`.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit this; without it Nagle + delayed ACK cost ~40 ms per call.
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind((self.host, self.port))
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", ws="none", lifespan="on", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            daemon=True,
            name="corthex-emulator",
        )
        self._thread.start()
        self._wait_started()
        return self

    def _wait_started(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        assert self._server is not None and self._thread is not None
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=START_TIMEOUT)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
        self.state.close()

    def env(self) -> dict[str, str]:
        """Environment that points the official SDKs at this emulator (and at its Cloud Storage and
        S3, when `config.gcs_url` and `config.s3_endpoint` name them)."""
        return sdk_env(self.url, self.config.gcs_url, self.config.s3_endpoint)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_object_stores(stack: contextlib.ExitStack, host: str = "127.0.0.1") -> tuple[str | None, str | None]:
    """The local Cloud Storage (Vertex AI's jobs) and S3 (Bedrock's, with the emulator's bucket)
    on free ports of `host`, each when its package is installed (the dev extra); their URLs, or
    None for one that is not. Both stop when `stack` closes."""
    from corthex.emulator import storage

    gcs = stack.enter_context(storage.LocalStorage(host)) if storage.available() else None
    try:
        from corthex.testing.s3 import local_s3
    except ImportError:
        return (gcs.url if gcs else None), None
    s3 = stack.enter_context(local_s3())
    s3.client().create_bucket(Bucket=BEDROCK_BUCKET)
    return (gcs.url if gcs else None), str(s3.url)
