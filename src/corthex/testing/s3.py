"""A real S3 on 127.0.0.1 for tests: moto's server mode (`moto[s3]` + flask, the dev extra), in a
thread of this process. Platforms that read their input from object storage (Bedrock) are tested
against it; the emulator reads and writes the same buckets.

    with local_s3() as s3:
        os.environ["AWS_ENDPOINT_URL_S3"] = s3.url
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

#: the credentials and region every local AWS call is signed with (moto takes any)
AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass(frozen=True)
class LocalS3:
    url: str  #: http://127.0.0.1:PORT

    def reset(self) -> None:
        """Forget every bucket and object (moto's reset endpoint)."""
        httpx.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()

    def client(self) -> Any:
        """A boto3 S3 client on this server (path-style: no `bucket.127.0.0.1` hosts)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=AWS_TEST_ENV["AWS_REGION"],
            aws_access_key_id=AWS_TEST_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"],
            config=Config(s3={"addressing_style": "path"}),
        )


@contextlib.contextmanager
def local_s3() -> Iterator[LocalS3]:
    """moto's threaded server on a free port of 127.0.0.1 (its default address is 0.0.0.0)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield LocalS3(f"http://{host}:{port}")
    finally:
        server.stop()
